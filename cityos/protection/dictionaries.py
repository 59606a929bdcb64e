"""Word lists the name and address detectors use.

Surnames: the ~300 most frequent single-character surnames of mainland China (roughly in order of
frequency; 云, 符, 邢, 冼 are typical of Hainan) and the common compound surnames. 区 and 海 are
left out on purpose, and so are some rarer surnames that mostly start ordinary words (位置, 时间,
全部, 应用, 和平, 明天, 南方, 原因, 楼层, 商品, 沙滩, 周边 → 边, 花园, 权利, 满意 …): as the first
character of a 2–3 character cell they are far more often a word than a person.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SINGLE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关"
    "兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿"
    "桂佟臧闵苟邬卞姬师仇栾隋刁荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝官封谈匡鞠"
    "惠荆乐冀郁胥班储栗燕楚鄢劳谌奚皮粟冼蔺闻厉伊仝郜阚强帅屠朴盖云"
)

COMPOUND_SURNAMES = _words(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 "
    "端木 独孤 南宫 西门 百里 呼延 万俟 澹台 公冶 宗政 濮阳 太史 申屠 钟离 闻人 "
    "赫连 第五 拓跋 完颜 司空 乐正 左丘 东郭 梁丘 公羊"
)


# Characters that (almost) never appear in a given name but often in short table words
# (单位, 时间, 全部, 高级, 王府井路, 周一 ...). A 2–4 character cell whose given part contains one
# of them is not taken for a name.
NOT_IN_GIVEN_NAMES = frozenset(
    "区市省县镇乡村路街巷号楼室层级年日时分秒间角个件次的了是在与及或等类型种部局厅委院所站处"
    "科司会组队校馆场店厂社团集限责股份医府办事务位口门期计量价费额率数值码表格项目名称状态备"
    "注说编证卡户籍地址电话手机邮箱性别男女族份整共总计额度量阵员蟹鸡鸭鹅猪椒油眼皮"
)

# short words that start with a surname character and pass the checks above
NOT_NAMES = _words(
    "周一 周二 周三 周四 周五 周六 周日 周末 周天 周岁 高中 初中 高温 高速 高新 "
    "高铁 高峰 高度 黄金 白天 白色 黄色 蓝色 红色 江苏 江西 湖南 万宁 文昌 马路 "
    "钱包 方向 方法 方式 石油 石头 林业 程序 车辆 车主 房屋 房产 安全 安装 成本 "
    "成功 成人 毛利 左右 任务 任何 关系 关于 关注 龙华 秀英 琼山 美兰 宁夏 吉林 "
    "云南 云龙 甘肃 应急 常用 常规 常住 包装 包括 包含 景区 景点 冷库 冷藏 农业 "
    "农村 卫生 卫星 司法 司机 连续 连接 古城 简单 管理 管道 游客 游泳 蒙古 和平 "
    "文化 文明 牛奶 于是 万人 金融 金属 水费 明天 明年 全省 全国 全市 全年 全天 "
    "全部 全体 盛夏 乐观 强度 原因 原来 原件 南方 南海 南北 满意 不满 花生 花园 "
    "华侨 华南 燕窝 楚剧 商业 商品 商铺 万元 农民 南风 乐东 白沙 师傅 应用 时代 "
    "向上 向下 孔雀 熊猫 柏油 宫殿 金牌 黄牛 马上 常见 方便 任意 周边 江边 宋体 "
    "石材 高兴 高档 高考 高层 方案 方面"
)


# "王先生", "李老师": a surname and a title, not a full name
TITLES = _words(
    "先生 女士 小姐 老师 同学 师傅 经理 主任 书记 局长 科长 处长 院长 校长 医生 "
    "护士 阿姨 大爷 总 工 某 某某"
)


# the province abbreviations that start a Chinese licence plate
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
