//! The words the simulator writes: department themes with their approval subjects and
//! materials, procedures, and the reasons clerks and applicants give.
//!
//! Kept as data so that the generator's code reads as rules, not as strings. None of these
//! strings contains a quote, a backslash or a control character, so they go into JSON as is.

/// A department of the district center: its item code prefix, the subjects it licenses (each
/// with the kind of act) and the materials its applications typically need.
#[derive(Debug)]
pub(crate) struct Theme {
    pub(crate) code: &'static str,
    /// The department's name (`OrgDefined`).
    pub(crate) dept: &'static str,
    pub(crate) subjects: &'static [(&'static str, &'static str)],
    pub(crate) materials: &'static [&'static str],
}

/// Materials every application includes.
pub(crate) const COMMON_MATERIALS: [&str; 2] = ["申请书", "身份证"];

/// The variants of an item (新办, 变更 …), appended to the subject: `食品经营许可（变更）`.
pub(crate) const VARIANTS: [&str; 5] = ["新办", "变更", "延续", "注销", "补办"];

pub(crate) const THEMES: [Theme; 20] = [
    Theme {
        code: "SC",
        dept: "区市场监管局",
        subjects: &[
            ("个体工商户", "登记"),
            ("食品经营", "许可"),
            ("有限责任公司", "登记"),
            ("农民专业合作社", "登记"),
            ("药品零售企业", "许可"),
        ],
        materials: &["经营场所证明", "营业执照", "章程", "食品安全管理制度"],
    },
    Theme {
        code: "MZ",
        dept: "区民政局",
        subjects: &[
            ("最低生活保障", "审批"),
            ("特困人员供养", "审批"),
            ("社会团体", "登记"),
            ("民办非企业单位", "登记"),
            ("临时救助", "审批"),
        ],
        materials: &["户口簿", "家庭收入证明", "章程", "验资报告"],
    },
    Theme {
        code: "RS",
        dept: "区人力社保局",
        subjects: &[
            ("就业创业证", "核发"),
            ("失业保险金", "审核"),
            ("劳务派遣经营", "许可"),
            ("职业技能培训补贴", "审核"),
            ("人力资源服务", "许可"),
        ],
        materials: &["劳动合同", "社会保险缴费证明", "营业执照", "培训合格证书"],
    },
    Theme {
        code: "WJ",
        dept: "区卫生健康委",
        subjects: &[
            ("医疗机构执业", "许可"),
            ("公共场所卫生", "许可"),
            ("母婴保健技术服务", "许可"),
            ("放射诊疗", "许可"),
            ("生育服务", "登记"),
        ],
        materials: &["执业人员资格证明", "平面布局图", "卫生检测报告", "结婚证"],
    },
    Theme {
        code: "ZJ",
        dept: "区住房城乡建委",
        subjects: &[
            ("建筑工程施工", "许可"),
            ("商品房预售", "许可"),
            ("燃气经营", "许可"),
            ("建筑业企业资质", "核准"),
            ("房屋租赁", "登记备案"),
        ],
        materials: &["建设工程规划许可证", "施工合同", "资金证明", "房屋权属证明"],
    },
    Theme {
        code: "JT",
        dept: "区交通局",
        subjects: &[
            ("道路运输经营", "许可"),
            ("出租汽车经营", "许可"),
            ("超限运输车辆行驶公路", "许可"),
            ("机动车维修经营", "备案"),
            ("涉路施工", "许可"),
        ],
        materials: &[
            "车辆行驶证",
            "驾驶员从业资格证",
            "安全生产管理制度",
            "施工方案",
        ],
    },
    Theme {
        code: "NY",
        dept: "区农业农村委",
        subjects: &[
            ("农药经营", "许可"),
            ("兽药经营", "许可"),
            ("动物防疫条件", "审核"),
            ("种子生产经营", "许可"),
            ("农村宅基地", "审批"),
        ],
        materials: &[
            "经营场所证明",
            "专业技术人员证明",
            "土地使用证明",
            "村民会议决议",
        ],
    },
    Theme {
        code: "LY",
        dept: "区林业局",
        subjects: &[
            ("林木采伐", "许可"),
            ("使用林地", "审核"),
            ("林草种子生产经营", "许可"),
            ("野生动物人工繁育", "许可"),
            ("木材运输", "许可"),
        ],
        materials: &["林权证", "伐区调查设计", "用地批准文件", "运输路线说明"],
    },
    Theme {
        code: "SL",
        dept: "区水利局",
        subjects: &[
            ("取水", "许可"),
            ("河道采砂", "许可"),
            ("生产建设项目水土保持方案", "审批"),
            ("洪水影响评价", "审批"),
            ("水利工程建设", "审批"),
        ],
        materials: &[
            "水资源论证报告",
            "水土保持方案",
            "工程设计文件",
            "河道管理范围图",
        ],
    },
    Theme {
        code: "JY",
        dept: "区教委",
        subjects: &[
            ("民办学校办学", "许可"),
            ("教师资格", "认定"),
            ("校外培训机构", "审批"),
            ("幼儿园办园", "许可"),
            ("学生资助", "审核"),
        ],
        materials: &["学历证书", "体检报告", "办学场所证明", "师资情况说明"],
    },
    Theme {
        code: "GA",
        dept: "区公安局",
        subjects: &[
            ("户口迁移", "审批"),
            ("旅馆业特种行业", "许可"),
            ("烟花爆竹道路运输", "许可"),
            ("保安服务", "许可"),
            ("大型群众性活动安全", "许可"),
        ],
        materials: &[
            "户口簿",
            "房屋权属证明",
            "消防安全检查合格证",
            "安全工作方案",
        ],
    },
    Theme {
        code: "ZR",
        dept: "区规划自然资源局",
        subjects: &[
            ("建设用地规划", "许可"),
            ("乡村建设规划", "许可"),
            ("不动产", "登记"),
            ("临时用地", "审批"),
            ("建设工程规划", "许可"),
        ],
        materials: &["土地使用证明", "规划设计方案", "不动产权属证书", "测绘报告"],
    },
    Theme {
        code: "HB",
        dept: "区生态环境局",
        subjects: &[
            ("排污", "许可"),
            ("建设项目环境影响评价", "审批"),
            ("危险废物经营", "许可"),
            ("辐射安全", "许可"),
            ("建设项目竣工环境保护", "验收"),
        ],
        materials: &["环境影响报告书", "监测报告", "污染防治设施说明", "营业执照"],
    },
    Theme {
        code: "WL",
        dept: "区文化旅游委",
        subjects: &[
            ("娱乐场所经营", "许可"),
            ("营业性演出", "审批"),
            ("互联网上网服务营业场所", "许可"),
            ("旅行社设立", "许可"),
            ("出版物零售", "许可"),
        ],
        materials: &["营业执照", "消防安全检查合格证", "经营场所证明", "演出合同"],
    },
    Theme {
        code: "SW",
        dept: "区商务委",
        subjects: &[
            ("对外贸易经营者", "备案"),
            ("成品油零售经营", "许可"),
            ("再生资源回收经营", "备案"),
            ("单用途商业预付卡", "备案"),
            ("酒类经营", "许可"),
        ],
        materials: &["营业执照", "经营场所证明", "安全评价报告", "资金证明"],
    },
    Theme {
        code: "YJ",
        dept: "区应急局",
        subjects: &[
            ("危险化学品经营", "许可"),
            ("烟花爆竹经营", "许可"),
            ("非煤矿山安全生产", "许可"),
            ("特种作业操作证", "核发"),
            ("生产安全事故应急预案", "备案"),
        ],
        materials: &[
            "安全评价报告",
            "安全生产管理制度",
            "应急预案",
            "从业人员培训证明",
        ],
    },
    Theme {
        code: "CG",
        dept: "区城市管理局",
        subjects: &[
            ("城市建筑垃圾处置", "核准"),
            ("户外广告设施设置", "审批"),
            ("临时占用城市道路", "许可"),
            ("城镇污水排入排水管网", "许可"),
            ("临时占用城市绿地", "审批"),
        ],
        materials: &["设计图纸", "施工方案", "场地权属证明", "交通组织方案"],
    },
    Theme {
        code: "TY",
        dept: "区退役军人事务局",
        subjects: &[
            ("退役军人优待证", "申领"),
            ("伤残抚恤", "审批"),
            ("退役士兵安置", "审核"),
            ("光荣牌悬挂", "审核"),
            ("退役军人创业补助", "审核"),
        ],
        materials: &["退役证", "户口簿", "伤残证明", "创业计划书"],
    },
    Theme {
        code: "YB",
        dept: "区医保局",
        subjects: &[
            ("医保定点医疗机构", "协议"),
            ("异地就医", "备案"),
            ("门诊特殊疾病", "认定"),
            ("医疗费用零星报销", "审核"),
            ("生育保险待遇", "审核"),
        ],
        materials: &["医疗费用发票", "病历资料", "诊断证明", "医保卡"],
    },
    Theme {
        code: "CL",
        dept: "区残联",
        subjects: &[
            ("残疾人证", "核发"),
            ("残疾人辅助器具", "审批"),
            ("残疾人就业保障金", "减免"),
            ("残疾儿童康复救助", "审批"),
            ("重度残疾人护理补贴", "审批"),
        ],
        materials: &["残疾评定表", "户口簿", "诊断证明", "近期照片"],
    },
];

/// Procedures (环节), each in order; drawn with [`STEP_WEIGHTS`].
pub(crate) const PROCEDURES: [&[&str]; 6] = [
    &["审查", "决定"],
    &["审查", "审核", "决定"],
    &["审查", "审核", "决定", "送达"],
    &["初审", "复审", "决定"],
    &["审查", "现场核查", "审核", "决定"],
    &["受理审查", "审核", "决定"],
];

/// How common each procedure is.
pub(crate) const STEP_WEIGHTS: [u32; 6] = [25, 35, 15, 10, 10, 5];

/// Statutory limits in working days, with how common each is.
pub(crate) const STATUTORY_DAYS: [(u32, u32); 6] =
    [(20, 50), (15, 10), (10, 15), (30, 10), (45, 10), (5, 5)];

/// Fee standards in cents (分) for the few items that charge.
pub(crate) const FEES_CENTS: [u64; 8] = [1000, 2000, 5000, 8000, 10000, 15000, 20000, 50000];

pub(crate) use jiancha_events::vocab::LAWFUL_SUSPENSIONS;

/// Pauses outside Art. 45.
pub(crate) const UNLAWFUL_SUSPENSIONS: [&str; 4] = [
    "awaiting_signature",
    "system_outage",
    "awaiting_other_department",
    "other",
];

pub(crate) const REJECTION_REASONS: [&str; 4] = [
    "不属于本机关职权范围",
    "申请事项依法不需要取得行政许可",
    "申请人不具备申请资格",
    "申请材料存在虚假内容",
];

pub(crate) const WITHDRAWAL_REASONS: [&str; 4] =
    ["不再需要", "申请人主动撤回", "材料准备不足", "经营计划改变"];

pub(crate) const EXTENSION_REASONS: [&str; 4] = [
    "情况复杂需延期",
    "需专家评审",
    "需征求相关部门意见",
    "需实地核查",
];

pub(crate) const COMPLAINT_CATEGORIES: [&str; 4] = ["网上审批", "服务态度", "收费", "吃拿卡要"];

/// How many of [`COMPLAINT_CATEGORIES`], from the first, the service center answers; the
/// supervision bureau answers the rest (fees, 吃拿卡要).
pub(crate) const CENTER_COMPLAINT_CATEGORIES: usize = 2;

/// Why a complaint is not accepted.
pub(crate) const COMPLAINT_REJECTION_REASONS: [&str; 3] = [
    "不属于投诉受理范围",
    "已通过其他渠道处理",
    "投诉事项不具体，无法核实",
];

/// Why a village point forwards a case it filed.
pub(crate) const AGENT_TRANSFER_REASON: &str = "代办转交";

/// Why a town center forwards a case it accepted.
pub(crate) const TOWN_TRANSFER_REASON: &str = "区级审批";

/// The district's name (the org `jiangjin`).
pub(crate) const DISTRICT_NAME: &str = "江津区";

/// The district center's name.
pub(crate) const CENTER_NAME: &str = "江津区政务服务中心";

/// The district supervision bureau's name.
pub(crate) const SUPERVISION_NAME: &str = "江津区行政审批电子监察室";

/// The towns and streets of the district, in order; a district with more repeats them with a
/// number.
pub(crate) const TOWNS: [&str; 30] = [
    "几江街道",
    "德感街道",
    "鼎山街道",
    "双福街道",
    "圣泉街道",
    "白沙镇",
    "石门镇",
    "油溪镇",
    "吴滩镇",
    "朱杨镇",
    "石蟆镇",
    "永兴镇",
    "塘河镇",
    "西湖镇",
    "先锋镇",
    "李市镇",
    "慈云镇",
    "贾嗣镇",
    "杜市镇",
    "广兴镇",
    "嘉平镇",
    "柏林镇",
    "蔡家镇",
    "中山镇",
    "支坪镇",
    "四面山镇",
    "夏坝镇",
    "珞璜镇",
    "龙华镇",
    "四屏镇",
];

/// The first character of a village's name.
pub(crate) const VILLAGE_HEADS: [&str; 20] = [
    "金", "石", "龙", "双", "新", "黄", "高", "大", "红", "青", "白", "凤", "马", "杨", "李", "中",
    "平", "长", "水", "桂",
];

/// The second character of a village's name.
pub(crate) const VILLAGE_TAILS: [&str; 15] = [
    "山", "坝", "溪", "湾", "林", "田", "坪", "岩", "河", "桥", "塘", "口", "岗", "沟", "园",
];
