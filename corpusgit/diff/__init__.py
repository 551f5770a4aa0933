"""Row-, column- and schema-level diffs between table versions, datasets of shards (rows moving
between shards are moved, not removed and added), and file-level diffs of trees."""
