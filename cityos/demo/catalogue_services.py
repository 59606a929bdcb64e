"""主题和部门信息资源 of public services: health, education, civil affairs, housing, jobs,
the mayor's office, the districts and a social organisation."""

from __future__ import annotations

from cityos.demo.spec import (
    CONDITION_OFFICIAL_DUTY,
    HAIKOU,
    OPEN_ON_AGREEMENT,
    PIPL_28,
    PLACE,
    ResourceSpec,
    it,
)

SERVICES: tuple[ResourceSpec, ...] = (
    # ---- 市卫生健康委员会 ---------------------------------------------------------------
    ResourceSpec(
        "hospitals", "医疗机构名录", "health", "204001",
        "全市医疗机构的名称、类别、等级、床位数、是否设急诊和位置。（演示数据，位置为示意）",
        "database", "unconditional", "unconditional", "quarterly",
        items=(
            it("code", "机构编号", "string", 20, req=True),
            it("name", "机构名称", "string", 100),
            it("institution_type", "机构类别", "string", 20),
            it("grade", "等级", "string", 10),
            it("beds", "核定床位", "integer", unit="张"),
            it("emergency", "设急诊", "boolean"),
            it("phone", "联系电话", "string", 20),
            *PLACE,
        ),
        keywords=("医院", "医疗机构", "卫生"), districts=HAIKOU, key_fields=("code",),
        records="hospitals",
    ),
    ResourceSpec(
        "physicians", "医师执业注册信息", "health", "204001",
        "医师执业证书编号、执业类别、执业范围和执业机构。", "database",
        "conditional", "conditional", "monthly",
        share_condition="向医保、市场监管部门提供，用于资质核验。",
        open_condition="公众可按姓名和执业机构查询核验。", share_method="query",
        keywords=("医师", "执业注册"),
    ),
    ResourceSpec(
        "health_records", "居民电子健康档案", "health", "204002",
        "居民个人基本信息、健康体检、慢病管理与就诊记录。", "database",
        "none", "none", "daily",
        items=(
            it("id_number", "身份证号", "string", 18, sens="sensitive_personal"),
            it("name", "姓名", "string", 30, sens="personal"),
            it("chronic_diseases", "慢性病", "text", sens="sensitive_personal"),
            it("last_exam_on", "最近体检日期", "date", sens="sensitive_personal"),
        ),
        share_basis=PIPL_28 + "（医疗健康信息属敏感个人信息）；"
        "《中华人民共和国基本医疗卫生与健康促进法》第九十二条（国家保护公民个人健康信息）。",
        share_method="other", keywords=("健康档案", "医疗"),
    ),
    ResourceSpec(
        "infectious", "法定传染病疫情统计", "health", "204002",
        "按周统计的法定传染病发病数和死亡数（不含个案信息）。", "spreadsheet",
        "conditional", "conditional", "weekly",
        share_condition="向教育、民政、海关等联防联控成员单位提供。",
        open_condition="按月向社会发布汇总数据，细分数据经申请提供。", share_method="download",
        keywords=("传染病", "疫情", "公共卫生"),
    ),
    ResourceSpec(
        "birth_certs", "出生医学证明信息", "health", "105001",
        "新生儿出生医学证明编号、出生时间地点和父母信息。", "database",
        "conditional", "none", "daily",
        share_condition="向公安（户籍登记）、医保、教育部门提供，实现出生一件事联办。",
        share_method="interface", keywords=("出生", "电子证照", "一件事"),
    ),
    ResourceSpec(
        "vaccination_clinics", "预防接种门诊", "health", "204002",
        "全市预防接种门诊的地址、服务时间和可接种疫苗。", "spreadsheet",
        "unconditional", "unconditional", "irregular",
        share_method="download", keywords=("疫苗", "接种"), status="draft",
    ),
    # ---- 市教育局 -----------------------------------------------------------------------
    ResourceSpec(
        "schools", "学校名录", "education", "205001",
        "全市幼儿园、中小学和中等职业学校的名称、类型、办学性质、在校生数和位置。"
        "（演示数据，位置为示意）", "database",
        "unconditional", "unconditional", "yearly",
        items=(
            it("code", "学校标识码", "string", 10, req=True),
            it("name", "学校名称", "string", 100),
            it("school_type", "学校类型", "string", 20),
            it("ownership", "办学性质", "string", 10),
            it("students", "在校生数", "integer", unit="人"),
            it("teachers", "专任教师数", "integer", unit="人"),
            it("phone", "联系电话", "string", 20),
            *PLACE,
        ),
        keywords=("学校", "教育", "幼儿园", "中小学"), districts=HAIKOU, key_fields=("code",),
        records="schools", related=("school_zones",),
    ),
    ResourceSpec(
        "school_zones", "义务教育学校划片范围", "education", "205002",
        "公办小学、初中的招生划片范围（含地图）。", "file",
        "unconditional", "unconditional", "yearly",
        share_method="download", keywords=("划片", "入学", "学区"), districts=HAIKOU,
    ),
    ResourceSpec(
        "student_records", "中小学生学籍信息", "education", "205001",
        "中小学生的学籍号、就读学校、年级与家庭住址。", "database",
        "none", "none", "monthly",
        share_basis=PIPL_28 + "、第三十一条（不满十四周岁未成年人的个人信息属敏感个人信息）；"
        "《中华人民共和国未成年人保护法》第七十二条。",
        share_method="other", keywords=("学籍", "学生"),
    ),
    ResourceSpec(
        "admissions", "中考招生计划", "education", "205002",
        "普通高中、中职学校各批次的招生计划数。", "spreadsheet",
        "unconditional", "unconditional", "yearly",
        share_method="download", keywords=("中考", "招生"), status="confirmed",
    ),
    # ---- 市民政局 -----------------------------------------------------------------------
    ResourceSpec(
        "elderly_homes", "养老机构名录", "civil", "206002",
        "养老机构的名称、床位数、收住对象、收费标准和地址。", "database",
        "unconditional", "unconditional", "quarterly",
        items=(
            it("name", "机构名称", "string", 100),
            it("beds", "床位数", "integer", unit="张"),
            it("ownership", "性质", "string", 10),
            it("address", "地址", "string", 200),
        ),
        keywords=("养老", "敬老院"), districts=HAIKOU,
    ),
    ResourceSpec(
        "subsistence", "最低生活保障对象信息", "civil", "206001",
        "城乡低保、特困供养对象的家庭成员、保障金额与认定时间。", "database",
        "conditional", "none", "monthly",
        items=(
            it("id_number", "身份证号", "string", 18, sens="sensitive_personal"),
            it("name", "姓名", "string", 30, sens="personal"),
            it("household_size", "家庭人口", "integer", unit="人"),
            it("monthly_amount", "月保障金额", "number", unit="元", sens="sensitive_personal"),
        ),
        share_condition="仅向人社、医保、住建、教育部门提供，用于救助对象资格核对，"
        "以核验接口方式提供，不批量交换。",
        share_method="query", keywords=("低保", "社会救助", "特困"),
    ),
    ResourceSpec(
        "marriages", "婚姻登记信息", "civil", "206001",
        "结婚、离婚登记的证件号、登记日期和登记机关。", "database",
        "conditional", "none", "daily",
        share_condition=CONDITION_OFFICIAL_DUTY, share_method="query",
        keywords=("婚姻登记",), status="rejected",
        review_comment="信息项缺少“当事人身份证号”的敏感级别标注，共享条件未写明核验方式，请补充后重新提交。",
    ),
    # ---- 市住房和城乡建设局 ---------------------------------------------------------------
    ResourceSpec(
        "affordable_housing", "保障性住房房源信息", "housing", "209001",
        "公共租赁住房、安居房的项目、房源数和分配情况。", "spreadsheet",
        "unconditional", "unconditional", "monthly",
        share_method="download", keywords=("安居房", "公租房", "住房保障"),
    ),
    ResourceSpec(
        "building_permits", "建筑工程施工许可信息", "housing", "209002",
        "建筑工程施工许可证编号、项目名称、建设单位与施工单位。", "database",
        "unconditional", "unconditional", "weekly",
        keywords=("施工许可", "建设工程"),
    ),
    ResourceSpec(
        "presales", "商品房预售许可信息", "housing", "209001",
        "商品房预售许可证号、项目、栋号和可售套数。", "database",
        "unconditional", "unconditional", "weekly",
        keywords=("商品房", "预售"), status="submitted",
    ),
    ResourceSpec(
        "estates", "住宅小区与物业服务信息", "housing", "209001",
        "住宅小区名称、户数、物业服务企业和物业费标准。", "database",
        "conditional", "conditional", "quarterly",
        share_condition="向街道（镇）、公安、消防提供。", open_condition=OPEN_ON_AGREEMENT,
        keywords=("小区", "物业"),
    ),
    # ---- 市人力资源和社会保障局 --------------------------------------------------------------
    ResourceSpec(
        "job_agencies", "就业服务机构名录", "hrss", "210001",
        "公共就业服务机构和经营性人力资源服务机构的名称、服务内容和位置。（演示数据）",
        "database", "unconditional", "unconditional", "quarterly",
        items=(
            it("code", "机构编号", "string", 20, req=True),
            it("name", "机构名称", "string", 100),
            it("agency_type", "机构类型", "string", 20),
            it("services", "服务内容", "text"),
            it("phone", "联系电话", "string", 20),
            *PLACE,
        ),
        keywords=("就业", "人力资源", "招聘"), districts=HAIKOU, key_fields=("code",),
        records="job_agencies",
    ),
    ResourceSpec(
        "insurance", "社会保险参保信息", "hrss", "210002",
        "职工和城乡居民养老、工伤、失业保险的参保状态和缴费月数。", "database",
        "conditional", "none", "monthly",
        items=(
            it("id_number", "身份证号", "string", 18, sens="sensitive_personal"),
            it("name", "姓名", "string", 30, sens="personal"),
            it("insurance_type", "险种", "string", 20),
            it("status", "参保状态", "string", 10),
            it("months_paid", "累计缴费月数", "integer", unit="月", sens="personal"),
        ),
        share_condition=CONDITION_OFFICIAL_DUTY, share_method="query",
        keywords=("社保", "养老保险", "参保"),
    ),
    ResourceSpec(
        "jobs", "招聘岗位信息", "hrss", "210001",
        "用人单位发布的招聘岗位、薪酬范围和学历要求。", "api",
        "unconditional", "unconditional", "daily",
        keywords=("招聘", "岗位", "就业"), status="submitted",
    ),
    # ---- 市政府办公厅 -------------------------------------------------------------------
    ResourceSpec(
        "gov_disclosure", "政府信息主动公开目录", "office", "dept",
        "市政府及办公厅主动公开的规范性文件、政策解读和公告。", "file",
        "unconditional", "unconditional", "irregular",
        share_method="download", keywords=("政务公开", "政策文件"),
    ),
    ResourceSpec(
        "hotline", "12345 政务服务便民热线工单统计", "office", "214",
        "12345 热线按月、按区、按诉求类别的受理量、办结率和满意率。", "spreadsheet",
        "unconditional", "conditional", "monthly",
        open_condition=OPEN_ON_AGREEMENT, share_method="download",
        keywords=("12345", "热线", "诉求"), districts=HAIKOU,
    ),
    # ---- 四区人民政府 -------------------------------------------------------------------
    ResourceSpec(
        "xiuying_villages", "秀英区村（社区）基本信息", "xiuying", "dept",
        "秀英区各镇（街道）所辖村（社区）的名称、户数、人口和村（居）委会地址。", "spreadsheet",
        "unconditional", "unconditional", "yearly",
        share_method="download", keywords=("村", "社区", "基层治理"), districts=("460105",),
    ),
    ResourceSpec(
        "longhua_grid", "龙华区网格化管理事件", "longhua", "214",
        "网格员巡查上报的城市管理、环境卫生、安全隐患事件及处置结果。", "stream",
        "conditional", "none", "realtime",
        share_condition="向市城市运行管理中心和相关职能部门提供。",
        keywords=("网格", "城市管理", "事件"), districts=("460106",),
    ),
    ResourceSpec(
        "qiongshan_markets", "琼山区农贸市场名录", "qiongshan", "211002",
        "农贸市场名称、摊位数、开办单位和地址。", "spreadsheet",
        "unconditional", "unconditional", "yearly",
        share_method="download", keywords=("农贸市场", "菜市场"), districts=("460107",),
    ),
    ResourceSpec(
        "meilan_scenic", "美兰区旅游景区名录", "meilan", "213",
        "A 级旅游景区、红色旅游点和乡村旅游点的名称、等级和开放时间。", "spreadsheet",
        "unconditional", "unconditional", "yearly",
        share_method="download", keywords=("旅游", "景区"), districts=("460108",),
        status="draft",
    ),
    # ---- 市委网信办 ---------------------------------------------------------------------
    ResourceSpec(
        "security_notices", "网络安全事件通报", "cac", "dept",
        "网络安全事件、数据安全事件的通报与整改跟踪（不含漏洞细节）。", "database",
        "conditional", "none", "irregular",
        share_condition="仅向被通报单位及其主管部门提供。", keywords=("网络安全", "数据安全"),
    ),
    # ---- 市大数据管理局 -----------------------------------------------------------------
    ResourceSpec(
        "catalogue_stats", "政务信息资源目录编制情况统计", "bigdata", "dept",
        "各部门目录编制、挂接、共享开放和更新及时率的月度统计。", "spreadsheet",
        "unconditional", "unconditional", "monthly",
        share_method="download", keywords=("目录", "共享开放", "考核"),
    ),
    # ---- 海口市慈善总会 -----------------------------------------------------------------
    ResourceSpec(
        "charity_projects", "慈善项目与志愿服务站点", "charity", "102002",
        "慈善募捐项目、善款使用公示和志愿服务站点（社会组织依条例第十四条汇聚的数据）。",
        "spreadsheet", "unconditional", "unconditional", "quarterly",
        share_method="download", keywords=("慈善", "志愿服务"), districts=HAIKOU,
    ),
)
