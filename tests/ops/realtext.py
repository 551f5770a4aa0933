"""A small real-text corpus for operator and lineage tests: English and Chinese prose, plus the
things cleaning must find (exact and near duplicates, low-quality pages, PII).

Every row has a stable integer ``id`` so tests can name rows by key. Loaded by path from
``tests/lineage/conftest.py`` as well, so keep it free of pytest imports.
"""

from __future__ import annotations

import pyarrow as pa

ENGLISH = [
    "The river had been rising for three days before anyone in the village took it seriously. On the fourth morning the water "
    "reached the steps of the old mill, and the miller, who had seen two floods in his lifetime, began carrying sacks of grain "
    "to the upper floor. By noon the whole street was helping him, and by evening the children were ferrying bread across the "
    "square in a washtub while their parents argued about whether the bridge would hold.",
    "Most people learn to cook by watching someone else do it, long before they read a recipe. A grandmother's hands folding "
    "dumplings, a father tasting the sauce and adding salt without measuring, a friend who knows exactly when the onions have "
    "softened enough: these are the lessons that stay with us. Recipes are useful, but they are only a record of what somebody "
    "once did in a particular kitchen with particular ingredients.",
    "The library opened at nine, but the queue began to form a little after eight. Students with laptops, retired teachers "
    "with crossword puzzles, and a man who came every day to read the newspapers from three different countries waited "
    "patiently on the steps. When the doors finally opened, they went to their usual places without a word, as if the building "
    "had been arranged around each of them.",
    "Learning a second language as an adult is humbling in a way that few other things are. You know what you want to say, "
    "and you know that the person in front of you would understand it, but the words simply are not there. Over months the gap "
    "narrows. One day you notice that you have been thinking in the new language for several minutes, and that it no longer "
    "feels like translation at all.",
    "The orchard was planted by a farmer who never expected to see it in full bloom. Apple trees take years to bear good fruit, "
    "and he was already old when he dug the first holes along the southern slope. His neighbours thought it was a strange "
    "thing to do at his age. Forty years later, his grandchildren sell cider at the market every autumn and tell his story to "
    "anyone who asks about the name on the label.",
    "Trains are a good place to think. The landscape moves at exactly the right speed, fast enough to keep changing and slow "
    "enough to follow, and there is nothing you are required to do except sit. Many writers have said that their best ideas "
    "arrived somewhere between two stations, with a notebook balanced on one knee and a cup of bad coffee on the folding table.",
    "When the power failed across the city that winter, the neighbourhood discovered how much it depended on a few old things. "
    "The hardware store still had paraffin lamps in the back room. The baker still had a wood oven that nobody had used in a "
    "decade. And the retired radio engineer on the corner still had a battery set that could pick up the emergency broadcasts "
    "when every phone had gone quiet.",
    "A good map leaves things out. If it showed every tree, every fence and every stone, it would be as large and as confusing "
    "as the land itself. The skill of the cartographer is in choosing what matters for the person who will hold the map: the "
    "path, the river crossing, the place where the road forks and the wrong turn looks exactly like the right one.",
]

CHINESE = [
    "连续下了三天雨之后，村口的小河终于涨到了石桥下面。老磨坊的主人年轻时见过两次大水，他一大早就开始把粮食搬到楼上。"
    "到了中午，整条街的人都来帮忙，孩子们用木盆把馒头运过广场，大人们则在争论那座桥到底能不能撑住。",
    "很多人学做饭并不是从菜谱开始的，而是从看别人做饭开始的。奶奶包饺子时手指的动作，父亲尝一口汤再随手加一点盐，"
    "朋友知道洋葱炒到什么程度刚刚好，这些才是真正留在我们记忆里的东西。菜谱当然有用，但它只是某个人在某个厨房里做过的一次记录。",
    "图书馆九点开门，可是八点多门口就已经排起了队。带着电脑的学生，拿着填字游戏的退休老师，还有一位每天都来读三份外国报纸的先生，"
    "都安静地等在台阶上。门一开，他们就各自走向熟悉的位置，好像这座楼本来就是围绕着他们每一个人设计的。",
    "成年以后再学一门外语，是一件很让人谦虚的事情。你知道自己想说什么，也知道对面的人完全听得懂，可是那些词就是想不起来。"
    "几个月过去，这段距离慢慢缩小。有一天你忽然发现，自己已经用新的语言想了好几分钟，而且一点也不觉得是在翻译。",
    "这片果园是一位老农种下的，他自己并没有指望能看到满园开花的样子。苹果树要过很多年才能结出好果子，而他在南坡上挖第一个坑的时候已经很老了。"
    "邻居们都觉得他这个年纪做这种事有点奇怪。四十年后，他的孙子们每年秋天都在集市上卖苹果酒，并且会把他的故事讲给每一个问起商标上名字的人听。",
    "火车是一个适合思考的地方。窗外的风景移动的速度刚刚好，既一直在变化，又慢得足以让人看清楚，而你什么都不用做，只需要坐着。"
    "许多作家都说过，他们最好的想法是在两个车站之间出现的，那时膝盖上放着一个笔记本，小桌板上放着一杯不太好喝的咖啡。",
    "那年冬天全城停电的时候，整个街区才发现自己有多么依赖几样老东西。五金店的后屋里还有煤油灯，面包师还有一个十年没人用过的柴火炉。"
    "街角那位退休的无线电工程师还有一台电池收音机，在所有手机都安静下来以后，它还能收到紧急广播。",
    "一张好的地图一定会省略很多东西。如果它画出每一棵树、每一道篱笆和每一块石头，它就会和土地本身一样大，也一样让人困惑。"
    "制图者的本事在于替拿地图的人选择真正重要的东西：小路，过河的地方，还有那个岔路口，走错的那条路看起来和正确的那条一模一样。",
]

# Rows the operators must catch, each with its id so tests can ask about them by key.
EXACT_DUP_EN = 100  # ENGLISH[0] with extra spaces and upper case: dedup-exact drops it
EXACT_DUP_ZH = 101  # CHINESE[0] with ASCII commas and ideographic spaces: NFKC folds them
NEAR_DUP_EN = 102  # ENGLISH[1] with one word changed (Jaccard ~0.87): dedup-minhash drops it
NEAR_DUP_ZH = 103  # CHINESE[1] with one word changed (character 5-grams, Jaccard ~0.89)
BULLETS = 104
LOREM = 105
SYMBOLS = 106
SHORT = 107
PII_EN = 108
PII_ZH = 109

PII_EN_TEXT = (
    "Thanks for coming to the open day on Saturday. If you have any questions about the course, write to "
    "maria.lopez@example.org or call (555) 123-4567 during office hours. Payment can be made by card "
    "(for example 4111 1111 1111 1111) or by bank transfer, and the receipt will be sent to the same address. "
    "We look forward to seeing you again at the next meeting of the group."
)
PII_ZH_TEXT = (
    "感谢大家参加周六的开放日活动。如果对课程有任何疑问，请在工作时间拨打手机13812345678，或者发邮件到wang.fang@example.cn联系王老师。"
    "报名时需要填写身份证号码，例如11010519491231002X，我们会把收据寄到你留下的地址。期待在下一次聚会上再见到大家，也欢迎带朋友一起来。"
)


def corpus_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i, text in enumerate(ENGLISH):
        rows.append({"id": i, "text": text, "lang": "en"})
    for i, text in enumerate(CHINESE):
        rows.append({"id": 50 + i, "text": text, "lang": "zh"})
    specials = {
        EXACT_DUP_EN: ("  " + ENGLISH[0].upper().replace(". ", ".   ") + "\n", "en"),
        EXACT_DUP_ZH: ("\u3000" + CHINESE[0].replace("，", ",") + " \u3000", "zh"),
        NEAR_DUP_EN: (ENGLISH[1].replace("softened", "browned"), "en"),
        NEAR_DUP_ZH: (CHINESE[1].replace("奶奶", "姥姥"), "zh"),
        BULLETS: ("\n".join(f"- item {n} on the list" for n in range(60)), "en"),
        LOREM: ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 12, "en"),
        SYMBOLS: (" ".join(["### the best deals ### and offers ### with prices that ### have to be seen ###"] * 8), "en"),
        SHORT: ("Click here.", "en"),
        PII_EN: (PII_EN_TEXT, "en"),
        PII_ZH: (PII_ZH_TEXT, "zh"),
    }
    for key, (text, lang) in specials.items():
        rows.append({"id": key, "text": text, "lang": lang})
    return rows


def corpus_table() -> pa.Table:
    """The corpus as a table (id int64, text, lang): originals first, so dedup keeps them."""
    return pa.Table.from_pylist(corpus_rows(), schema=pa.schema([("id", pa.int64()), ("text", pa.string()), ("lang", pa.string())]))
