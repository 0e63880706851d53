package names

// hanLegal are the endings of Chinese organization names that say what
// form the organization takes, not which one it is; Core removes them from
// the end, longest first, as often as they occur (华信科技集团股份有限公司 →
// 华信科技).
var hanLegal = []string{
	"集团股份有限公司", "集团有限公司", "股份有限公司", "有限责任公司", "股份合作公司",
	"个人独资企业", "个体工商户", "合伙企业",
	"会计师事务所", "律师事务所", "事务所",
	"有限公司", "总公司", "分公司", "子公司", "公司",
	"集团", "控股", "股份", "有限",
	"分行", "支行", "办事处", "代表处", "营业部", "分部", "分店",
	"总厂", "分厂", "厂", "商行", "经营部", "门市部", "工作室",
}

// hanBranch are the endings that name a branch; a place before them is
// the branch's, not part of the name (平安人寿保险股份有限公司深圳分公司 →
// 平安人寿保险).
var hanBranch = []string{"分公司", "分行", "支行", "办事处", "代表处", "营业部", "分部", "分店", "分厂"}

// hanNotes are what a bracket holds that says nothing of which
// organization it is, besides places: 华信律师事务所(特殊普通合伙).
var hanNotes = []string{"特殊普通合伙", "普通合伙", "有限合伙", "集团", "控股", "筹", "筹建", "总部", "总公司"}

// latinLegal reports whether w is one of the words of Latin-script names
// that say what legal form the organization takes; Core removes them from
// the end (Acme Trading Co., Ltd. → acme trading). The word lists are
// switches rather than maps: the compiler lays a switch out as code, while
// a map would be built at every cold start of every function that imports
// names.
func latinLegal(w string) bool {
	switch w {
	case "co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "plc",
		"gmbh", "mbh", "ag", "kg", "ug", "ohg", "se", "sa", "sas", "sarl", "srl", "spa", "sl", "bv", "nv", "oy", "oyj", "ab", "as", "asa", "aps", "kk", "pte", "pty", "pvt", "private",
		"sdn", "bhd", "tbk", "jsc", "ojsc", "pjsc", "ooo", "zao", "cv", "group", "holding", "holdings", "and":
		return true
	}
	return false
}

// hanGeneric reports whether w is one of the words that say what an
// organization does or is, not which one it is. A place is not removed from the start of a name when only
// such words would remain (北京银行, 中国人寿保险, 黄山旅游发展 keep their
// places; 北京华信科技 does not).
func hanGeneric(w string) bool {
	switch w {
	case "银行", "商业银行", "农村商业银行", "农商银行", "信用社", "农村信用社", "证券", "保险", "人寿", "财产", "人寿保险", "财产保险", "信托", "基金", "资本", "资产", "投资", "金融", "担保", "租赁",
		"大学", "学院", "学校", "中学", "小学", "幼儿园", "职业技术学院", "师范", "理工", "医科", "财经", "交通大学", "科技大学", "师范大学", "研究院", "研究所", "研究", "图书馆", "博物馆",
		"医院", "人民医院", "中医院", "中医", "卫生院", "诊所", "妇幼保健院", "口腔", "眼科", "儿童", "妇女", "养老", "福利", "疾控", "卫生", "医疗", "医药", "制药", "药业", "生物", "器械", "健康",
		"科技", "技术", "技术开发", "开发", "发展", "实业", "工业", "产业", "国际", "进出口", "外贸", "贸易", "商贸", "商业", "百货", "商场", "超市", "商城", "市场", "供销",
		"电子", "电器", "电气", "电力", "供电", "电网", "电信", "移动", "联通", "邮政", "通信", "通讯", "广电", "广播", "电视", "电视台", "传媒", "广告", "出版", "报业", "日报", "晚报", "影视", "文化", "艺术", "音乐", "体育", "教育", "培训",
		"航空", "航天", "航运", "港务", "港口", "机场", "铁路", "公路", "高速", "交通", "运输", "客运", "货运", "物流", "快递", "公交", "地铁", "出租车", "船舶", "海运", "海洋",
		"汽车", "汽配", "机械", "机电", "重工", "钢铁", "铜业", "铝业", "矿业", "煤业", "煤炭", "有色", "化工", "化纤", "石化", "石油", "燃气", "热力", "能源", "新能源", "电池", "水务", "水利", "自来水", "环保", "环境",
		"建设", "建工", "建筑", "建材", "城建", "城投", "市政", "公用", "装饰", "工程", "安装", "设计", "规划", "勘察", "测绘", "地产", "房地产", "置业", "物业",
		"农业", "林业", "牧业", "渔业", "水产", "粮食", "粮油", "食品", "饮料", "啤酒", "酒业", "茶业", "茶叶", "烟草", "酒店", "饭店", "宾馆", "餐饮", "旅游",
		"服装", "服饰", "纺织", "鞋业", "家具", "家电", "珠宝", "造纸", "印刷", "包装", "塑料", "橡胶", "玻璃", "陶瓷", "水泥", "材料", "新材料", "化学", "科学", "光电", "半导体", "设备", "仪器", "仪表",
		"软件", "信息", "网络", "数据", "计算机", "系统", "智能", "互联网", "咨询", "管理", "服务", "人力资源", "时代", "国投", "国资",
		"人民", "第一", "第二", "第三", "中心", "协会", "学会", "商会", "委员会", "政府", "人民政府", "集团", "控股":
		return true
	}
	return false
}

// latinGeneric is hanGeneric for Latin-script names.
func latinGeneric(w string) bool {
	switch w {
	case "bank", "university", "college", "school", "institute", "hospital", "technology", "technologies", "tech",
		"trading", "trade", "industry", "industries", "industrial", "electronics", "electric", "electrical", "power", "energy", "telecom", "airlines", "airline",
		"airways", "aviation", "shipping", "logistics", "transport", "railway", "motor", "motors", "automotive", "machinery", "steel", "copper", "mining", "coal",
		"chemical", "chemicals", "petroleum", "petrochemical", "gas", "water", "construction", "engineering", "real", "estate", "property", "properties",
		"investment", "investments", "finance", "financial", "securities", "insurance", "life", "trust", "fund", "capital", "leasing", "commercial",
		"agriculture", "food", "foods", "beverage", "hotel", "hotels", "tourism", "travel", "culture", "media", "publishing", "education", "sports",
		"pharmaceutical", "pharmaceuticals", "pharma", "medical", "health", "textile", "textiles", "garment", "furniture", "software", "information",
		"network", "networks", "data", "computer", "systems", "system", "consulting", "management", "services", "service", "development",
		"international", "import", "export", "department", "store", "stores", "supermarket", "market", "design", "research", "equipment", "materials",
		"science", "of":
		return true
	}
	return false
}

// generic reports whether every word of ws says only what an
// organization does: Latin words in latinGeneric, Chinese words made
// entirely of hanGeneric words.
func generic(ws []string) bool {
	for _, w := range ws {
		if hanWord(w) && !segments(w, hanGeneric) || !hanWord(w) && !latinGeneric(w) {
			return false
		}
	}
	return len(ws) > 0
}

// segments reports whether s is a concatenation of words dict accepts.
func segments(s string, dict func(string) bool) bool {
	r := []rune(s)
	ok := make([]bool, len(r)+1) // ok[i]: r[:i] segments
	ok[0] = true
	for i := 1; i <= len(r); i++ {
		for j := max(0, i-8); j < i && !ok[i]; j++ {
			ok[i] = ok[j] && dict(string(r[j:i]))
		}
	}
	return ok[len(r)]
}
