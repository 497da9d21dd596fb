"""Realistic zh-CN demo values, drawn from word lists with a seeded ``random.Random``.

Company names are assembled from parts (``上海`` + ``恒远`` + ``精密机械`` + ``有限公司``);
the industry word decides the customer's ``industry`` choice. Mobiles use prefixes that
are valid in China (13x, 15x except 154, 18x), fixed lines the city's area code. E-mail
addresses are under ``example.com`` (reserved for examples), so a demo can never mail a
real company.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Company", "Person", "Vocabulary"]

# city, pinyin, area code
CITIES = [
    ("上海", "sh", "021"), ("北京", "bj", "010"), ("深圳", "sz", "0755"), ("杭州", "hz", "0571"),
    ("苏州", "suzhou", "0512"), ("南京", "nj", "025"), ("广州", "gz", "020"),
    ("成都", "cd", "028"), ("武汉", "wh", "027"), ("宁波", "nb", "0574"),
    ("天津", "tj", "022"), ("青岛", "qd", "0532"), ("无锡", "wx", "0510"),
    ("厦门", "xm", "0592"),  # 7-digit local numbers ("合肥", "hf", "0551"), ("西安", "xa", "029"),
    ("长沙", "cs", "0731"), ("东莞", "dg", "0769"), ("佛山", "fs", "0757"),
    ("重庆", "cq", "023"),
]  # fmt: skip

# brand word (字号) and its pinyin
BRANDS = [
    ("恒远", "hengyuan"), ("华信", "huaxin"), ("金桥", "jinqiao"), ("瑞丰", "ruifeng"),
    ("鼎盛", "dingsheng"), ("宏达", "hongda"), ("天成", "tiancheng"), ("中科", "zhongke"),
    ("博瑞", "borui"), ("汇通", "huitong"), ("新元", "xinyuan"), ("星辰", "xingchen"),
    ("永泰", "yongtai"), ("德力", "deli"), ("精工", "jinggong"), ("联创", "lianchuang"),
    ("海纳", "haina"), ("启明", "qiming"), ("同益", "tongyi"), ("嘉禾", "jiahe"),
    ("长城", "changcheng"), ("东方", "dongfang"), ("华茂", "huamao"), ("晨光", "chenguang"),
    ("创维", "chuangwei"), ("安泰", "antai"), ("明德", "mingde"), ("正泰", "zhengtai"),
    ("远大", "yuanda"), ("国顺", "guoshun"), ("蓝海", "lanhai"), ("信达", "xinda"),
    ("凯利", "kaili"), ("佳美", "jiamei"), ("万通", "wantong"), ("兴业", "xingye"),
]  # fmt: skip

# industry word, short form, industry choice, products they buy
INDUSTRIES = [
    ("精密机械", "机械", "manufacturing", "数控机床配件、精密轴承"),
    ("自动化设备", "自动化", "manufacturing", "伺服电机、PLC控制柜"),
    ("汽车零部件", "汽配", "manufacturing", "检测设备、工装夹具"),
    ("新材料", "材料", "manufacturing", "实验室仪器、耗材"),
    ("电子科技", "电子", "it_services", "测试仪表、工控机"),
    ("信息技术", "信息", "it_services", "服务器、网络设备、软件维保"),
    ("商贸", "商贸", "retail", "仓储货架、POS终端"),
    ("连锁超市", "超市", "retail", "冷链设备、收银系统"),
    ("医疗器械", "医疗", "healthcare", "洁净设备、检验仪器"),
    ("生物科技", "生物", "healthcare", "低温储存设备"),
    ("教育科技", "教育", "education", "多媒体教学设备"),
    ("物流", "物流", "logistics", "叉车、分拣设备、RFID标签"),
    ("供应链管理", "供应链", "logistics", "仓储管理系统"),
    ("建筑工程", "建工", "construction", "工程机械配件"),
    ("置业", "置业", "construction", "楼宇自控系统"),
    ("能源科技", "能源", "energy", "储能柜、电力监测仪表"),
    ("环保设备", "环保", "energy", "水处理设备、在线监测"),
    ("金融信息服务", "金服", "finance_industry", "机房设备、安全审计"),
]  # fmt: skip

SUFFIXES = ["有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司"]

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
]  # fmt: skip

GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("霞", "xia"),
    ("晓东", "xiaodong"), ("志强", "zhiqiang"), ("建华", "jianhua"), ("海燕", "haiyan"),
    ("文静", "wenjing"), ("子涵", "zihan"), ("浩然", "haoran"), ("雨萱", "yuxuan"),
    ("国庆", "guoqing"), ("春梅", "chunmei"), ("立新", "lixin"), ("思远", "siyuan"),
]  # fmt: skip

DEPARTMENTS = ["采购部", "设备部", "技术部", "行政部", "生产部", "信息中心", "质量部", "总经办",
               "工程部", "运营部"]  # fmt: skip
TITLES = ["采购经理", "设备主管", "技术总监", "行政经理", "总经理", "工程师", "采购专员",
          "IT经理", "生产厂长", "运营总监"]  # fmt: skip

MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "180", "181", "182", "183",
                   "185", "186", "187", "188", "189"]  # fmt: skip

PROJECTS = ["二期产线改造", "年度设备采购", "MES系统升级", "仓储自动化项目", "备品备件年度框架",
            "新厂房配套", "质检设备更新", "办公网络改造", "节能改造项目", "售后维保续约",
            "数字化车间试点", "实验室扩建"]  # fmt: skip

COMPETITORS = ["西门子", "施耐德", "ABB", "汇川技术", "海康威视", "本地经销商", "台达"]

FAIRS = ["2025上海工博会", "2025深圳高交会", "2025中国国际进口博览会", "2026北京机床展"]
CAMPAIGNS = ["2025秋季新品发布会", "华东区客户答谢会", "线上技术研讨会", "行业白皮书下载活动"]

LOST_REASONS = ["客户选择了竞争对手的方案", "预算削减，项目暂停", "客户公司业务调整，不再需要",
                "价格差距较大，无法达成一致", "联系人离职，需求终止"]  # fmt: skip
TOPICS = ["需求确认", "报价跟进", "技术方案交流", "交期确认", "付款进度", "售后回访",
          "样品测试反馈", "年度采购计划", "合同条款沟通", "现场勘查安排"]  # fmt: skip
REACTIONS = ["对方案总体认可，需内部评审", "希望价格再优惠5%", "下月启动招标",
             "要求补充技术参数", "决策人出差，下周再约", "对交期比较关注", "已提交采购申请",
             "暂无新需求"]  # fmt: skip
NEXT_STEPS = ["下周发送正式报价", "安排工程师上门演示", "整理技术参数表发给客户",
              "约决策人面谈", "跟进采购流程", "月底前电话回访"]  # fmt: skip
CHANNEL_WORDS = {"phone": "电话沟通", "wechat": "微信沟通", "email": "邮件往来",
                 "meeting": "上门拜访"}  # fmt: skip
TICKET_SUBJECTS = {
    "inquiry": ["咨询设备保养周期", "询问备件价格", "咨询新产品参数", "咨询发票开具"],
    "complaint": ["设备交付延迟", "现场服务人员迟到", "产品外观有划痕", "售后响应太慢"],
    "after_sales": ["设备报警无法启动", "需要更换易损件", "申请上门保养", "软件授权到期续期"],
    "feedback": ["操作界面不方便", "说明书与实物不符", "包装破损反馈"],
    "suggestion": ["建议增加远程诊断功能", "建议提供中文操作视频", "建议缩短备件交期"],
}


@dataclass(frozen=True)
class Company:
    name: str
    short_name: str
    industry: str
    products: str
    domain: str
    area_code: str
    city: str


@dataclass(frozen=True)
class Person:
    name: str
    pinyin: str


class Vocabulary:
    """Values for one demo data set; the same seed gives the same values."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._companies: set[str] = set()
        self._mobiles: set[str] = set()

    def company(self) -> Company:
        """A company name not used before in this data set."""
        while True:
            city, city_py, area = self.rng.choice(CITIES)
            brand, brand_py = self.rng.choice(BRANDS)
            word, short, industry, products = self.rng.choice(INDUSTRIES)
            name = f"{city}{brand}{word}{self.rng.choice(SUFFIXES)}"
            if name not in self._companies:
                self._companies.add(name)
                return Company(name, f"{brand}{short}", industry, products,
                               f"{brand_py}-{city_py}.example.com", area, city)  # fmt: skip

    def person(self) -> Person:
        surname, s_py = self.rng.choice(SURNAMES)
        given, g_py = self.rng.choice(GIVEN_NAMES)
        return Person(surname + given, f"{g_py}.{s_py}")

    def mobile(self) -> str:
        """A valid mainland mobile number, unique in this data set."""
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._mobiles:
                self._mobiles.add(number)
                return number

    def fixed_line(self, company: Company) -> str:
        """A fixed line in the company's city (local numbers start with 2–7; Xiamen's have
        7 digits, the others 8)."""
        rest = 6 if company.area_code == "0592" else 7
        first, number = self.rng.randint(2, 7), self.rng.randrange(10**rest)
        return f"{company.area_code}-{first}{number:0{rest}d}"

    def email(self, person: Person, company: Company) -> str:
        return f"{person.pinyin}@{company.domain}"

    def department(self) -> str:
        return self.rng.choice(DEPARTMENTS)

    def title(self) -> str:
        return self.rng.choice(TITLES)

    def score(self) -> int:
        """1–5, mostly in the middle."""
        return self.rng.choices([1, 2, 3, 4, 5], weights=[1, 3, 4, 3, 1])[0]

    def project(self, company: Company) -> str:
        return f"{company.short_name}{self.rng.choice(PROJECTS)}"

    def amount(self, low: int = 30_000, high: int = 2_000_000) -> int:
        """A round amount in CNY, more small deals than large ones."""
        value = int(low * (high / low) ** self.rng.random())
        return value - value % 1000
