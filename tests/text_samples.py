"""Small generated datasets for the "auto" character n-gram rule: short, long and spaceless text.

Written into a test's tmp_path (no data files in the repository): CSVs of ``text,label`` whose
documents have an exact token count, or whose text is Japanese, Chinese and Thai, written
without spaces between words.
"""

from __future__ import annotations

import random
from pathlib import Path

__all__ = ["SPACELESS", "write_spaceless_csv", "write_words_csv"]

_WORDS = {
    "sport": "ball goal team match win play score coach league referee".split(),
    "food": "eat cook bread cheese taste recipe meal soup oven spice".split(),
}

#: A dozen sentences each of Japanese, Chinese and Thai, labelled by their language.
SPACELESS: dict[str, tuple[str, ...]] = {
    "ja": (
        "今日はとても良い天気ですね",
        "駅の近くに新しいパン屋ができました",
        "明日の会議は午後三時から始まります",
        "彼女は毎朝公園を散歩しています",
        "この本はとても面白かったです",
        "週末に家族と温泉へ行きました",
        "電車が遅れて学校に遅刻しました",
        "猫がソファの上で寝ています",
        "日本語の勉強を毎日続けています",
        "冷蔵庫に牛乳がもうありません",
        "夏休みに海で泳ぎたいです",
        "新しいパソコンを買いたいと思っています",
    ),
    "zh": (
        "今天天气很好我们去公园散步吧",
        "我每天早上喝一杯咖啡",
        "这家餐厅的菜非常好吃",
        "他正在图书馆里看书",
        "明天我们要去北京出差",
        "孩子们在操场上踢足球",
        "请把窗户关上外面很冷",
        "我的手机昨天坏了",
        "周末我们一起去看电影吧",
        "这个问题比我想的更难",
        "她在大学里学习历史",
        "火车站离这里不远",
    ),
    "th": (
        "วันนี้อากาศดีมากเราไปเดินเล่นกันเถอะ",
        "ฉันดื่มกาแฟทุกเช้า",
        "ร้านอาหารนี้อร่อยมาก",
        "เขากำลังอ่านหนังสืออยู่ในห้องสมุด",
        "พรุ่งนี้เราจะไปเชียงใหม่",
        "เด็กๆกำลังเล่นฟุตบอลในสนาม",
        "กรุณาปิดหน้าต่างด้วยข้างนอกหนาว",
        "โทรศัพท์ของฉันเสียเมื่อวานนี้",
        "สุดสัปดาห์นี้ไปดูหนังกันไหม",
        "คำถามนี้ยากกว่าที่คิด",
        "เธอเรียนประวัติศาสตร์ที่มหาวิทยาลัย",
        "สถานีรถไฟอยู่ไม่ไกลจากที่นี่",
    ),
}


def write_words_csv(path: Path, tokens: int, n: int = 200, seed: int = 0) -> Path:
    """``n`` two-class documents of exactly ``tokens`` lower-case words each."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for i in range(n):
            label = sorted(_WORDS)[i % 2]
            fh.write(f"{' '.join(rng.choices(_WORDS[label], k=tokens))},{label}\n")
    return path


def write_spaceless_csv(path: Path) -> Path:
    """Each sentence of :data:`SPACELESS` twice (plain and with a full stop), by language."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for label, sentences in SPACELESS.items():
            for sentence in sentences:
                fh.write(f"{sentence},{label}\n{sentence}。,{label}\n")
    return path
