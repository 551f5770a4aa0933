"""Row-, column- and schema-level diffs between table versions, and file-level diffs of trees."""
