"""How fast ``Extractor.extract`` is next to a bare ``lxml.html.fromstring`` of a page.

Run ``python bench/extract_speed.py``. It says whether the page-reading modules are
compiled (setup.py), which makes them about a fifth faster, then builds realistic
Chinese corporate home pages of about 60 KB, 200 KB and 1 MB (one in ten GBK-encoded),
times extraction against a bare lxml parse of the same bytes in the same run (min of
several repeats, both timed alternately), and prints the ratio per size: the target is
at most 1.0. It then times the adversarial pages, each of which must extract in well
under a second.

The page text is drawn from the 1,385 most frequent Chinese characters with Zipf-like
weights (的 about 3.5 % of characters, 备 about 0.04 %), mixed with the words corporate
sites use, so keywords such as 备 (设备, 准备) turn up about as often as on real pages.
``adversarial_pages`` is shared with ``tests/test_extract_robustness.py``.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lxml.html

import crawler.extract
from crawler.extract import FREQUENT_HANZI, Extractor
from patterns import load_catalogue

SIZES = {"60 KB": 60_000, "200 KB": 200_000, "1 MB": 1_000_000}
PAGES_PER_SIZE = 10  # the first of them GBK-encoded
REPEATS = {"60 KB": 25, "200 KB": 15, "1 MB": 7}
AUDIT_YEAR = 2026

# The 1,385 most frequent characters of modern Chinese, most frequent first: the 300
# the extractor ranks keywords by, then the rest.
COMMON_CHARACTERS = FREQUENT_HANZI + (
    "完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争"
    "运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台"
    "单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官"
    "火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图"
    "念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维"
    "革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察"
    "母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒"
    "育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪"
    "微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙"
    "树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修"
    "皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份"
    "穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核"
    "暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救"
    "贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端"
    "探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣"
    "择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午"
    "练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭"
    "盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸"
    "毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀"
    "混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵硬麦蒋操耶阻订彩抽赞魔"
    "纷沿喊违妹浪汇币丰蓝殊献桌啦瓦莱援译夺汽烧距裁偏符勇触课敬哭懂墙袭召罚侠厅拜巧侧韩冒债曼"
    "融惯享戴童犹乘挂奖绍厚纵障讯涉彻刊丈爆乌役描洗玛患妙镜唱烦签仙彼弗症仿倾牌陷鸟轰咱菜闭奋"
    "庆撤泪茶疾缘播朗杜奶季丹狗尾仪偷奔珠虫驻孔宜艾桥淡翼恨繁寒伴叹旦愈潮粮缩罢聚径恰挑袋灰捕"
    "徐珍幕映裂泰隔启尖忠累炎暂估泛荒偿横拒瑞忆孤鼻闹羊呆厉衡胞零穷舍码赫婆魂灾洪腿胆津俗辩胸"
    "晓劲贫仁偶辑邦恢赖圈摸仰润堆碰艇稍迟辆废净凶署壁御奉旋冬矛"
)
_CHARACTER_WEIGHTS = list(accumulate(1 / (rank + 5) for rank in range(len(COMMON_CHARACTERS))))
CORPORATE_WORDS = (
    "公司", "产品", "服务", "技术", "发展", "企业", "客户", "合作", "创新", "质量", "管理", "解决方案",
    "行业", "智能", "系统", "平台", "研发", "生产", "销售", "项目", "工程", "设备", "数字化", "制造",
    "集团", "有限公司", "科技", "品牌", "市场", "团队", "专业", "高效", "安全", "环保", "节能", "标准",
    "认证", "荣誉", "资质", "新闻", "动态", "案例", "应用", "领域", "全国", "国际", "战略", "升级",
    "转型", "运维", "监测", "控制", "数据",
)
CITIES = (("京", "北京", "11"), ("沪", "上海", "31"), ("粤", "深圳", "44"), ("浙", "杭州", "33"),
          ("苏", "苏州", "32"), ("鄂", "武汉", "42"), ("川", "成都", "51"), ("鲁", "青岛", "37"))


def chinese(rng: random.Random, length: int) -> str:
    """About ``length`` characters of Chinese prose: frequent characters and business words.

    >>> len(chinese(random.Random(1), 40)) >= 40
    True
    """
    parts: list[str] = []
    size = 0
    while size < length:
        if rng.random() < 0.15:
            part = rng.choice(CORPORATE_WORDS)
        else:
            part = "".join(rng.choices(COMMON_CHARACTERS, cum_weights=_CHARACTER_WEIGHTS,
                                       k=rng.randint(1, 3)))
        if rng.random() < 0.08:
            part += rng.choice("，，，。、；")
        parts.append(part)
        size += len(part)
    return "".join(parts) + "。"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2018, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _head(rng: random.Random, company: str, charset: str) -> str:
    css = "".join(
        f".{rng.choice(['nav', 'news', 'pro', 'case', 'box', 'item', 'list'])}-{i}"
        f"{{margin:{rng.randint(0, 40)}px auto;padding:0 {rng.randint(0, 30)}px;"
        f"color:#{rng.randrange(0x1000000):06x};font-size:{rng.randint(12, 30)}px;"
        f"background:url(/static/images/bg{i}.png) no-repeat center}}\n"
        for i in range(rng.randint(60, 90))
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="{charset}">
<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{company} - 官方网站</title>
<meta name="keywords" content="{company},{','.join(rng.sample(CORPORATE_WORDS, 6))}">
<meta name="description" content="{company}{chinese(rng, 70)}">
<link rel="stylesheet" href="/static/css/bootstrap.min.css?v=3.4.1">
<link rel="stylesheet" href="/static/css/style.css?v={rng.randint(20200101, 20251231)}">
<style type="text/css">
{css}</style>
<script>
var _hmt = _hmt || [];
(function() {{
  var hm = document.createElement("script");
  hm.src = "https://hm.baidu.com/hm.js?{rng.getrandbits(128):032x}";
  var s = document.getElementsByTagName("script")[0];
  s.parentNode.insertBefore(hm, s);
}})();
</script>
</head>
<body>
"""


def _nav(rng: random.Random, company: str) -> str:
    items = "".join(
        f'<li><a href="/{slug}/">{name}</a><div class="sub">'
        + "".join(f'<a href="/{slug}/list-{i}.html">{chinese(rng, 4)[:4]}</a>' for i in range(4))
        + "</div></li>\n"
        for slug, name in (("about", "关于我们"), ("products", "产品中心"), ("solutions", "解决方案"),
                           ("cases", "客户案例"), ("news", "新闻动态"), ("jobs", "人才招聘"),
                           ("contact", "联系我们"))
    )
    return f"""<div class="topbar"><div class="w1200 clearfix">
<div class="fl">您好，欢迎访问{company}官方网站！</div>
<div class="fr"><span>服务热线：400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}</span><a href="/contact/">在线留言</a><a href="/en/">English</a></div>
</div></div>
<div class="header"><div class="w1200 clearfix">
<div class="logo"><a href="/"><img src="/static/images/logo.png" alt="{company}"></a></div>
<ul class="nav"><li class="on"><a href="/">网站首页</a></li>
{items}</ul></div></div>
<div class="banner swiper-container"><div class="swiper-wrapper">
<div class="swiper-slide"><a href="/products/"><img src="/uploads/banner/banner1.jpg" alt="{chinese(rng, 8)}"></a></div>
<div class="swiper-slide"><a href="/about/"><img src="/uploads/banner/banner2.jpg" alt="{chinese(rng, 8)}"></a></div>
</div></div>
"""


def _news(rng: random.Random) -> str:
    items = "".join(
        f'<li class="news-item clearfix"><div class="news-date"><span class="day">{date[-2:]}</span>'
        f'<span class="ym">{date[:7]}</span></div><div class="news-text"><h4>'
        f'<a href="/news/{date[:4]}/{date[5:7]}{date[8:]}/{rng.randint(1000, 99999)}.html" '
        f'target="_blank" title="{title}">{title}</a></h4><p>{chinese(rng, rng.randint(50, 90))}</p>'
        f'<span class="date">{date}</span></div></li>\n'
        for date, title in ((_date(rng), chinese(rng, rng.randint(12, 24))) for _ in range(8))
    )
    return (f'<div class="news w1200"><div class="title-box"><h2>新闻动态</h2><p>News Center</p>'
            f'</div>\n<ul class="news-list">\n{items}</ul></div>\n')


def _products(rng: random.Random) -> str:
    items = "".join(
        f'<li><a href="/products/{n}.html"><img src="/uploads/products/p{n}.jpg" alt="{name}">'
        f'<h4>{name}</h4><p>{chinese(rng, rng.randint(30, 60))}</p></a></li>\n'
        for n, name in ((rng.randint(100, 999), chinese(rng, rng.randint(5, 9))) for _ in range(8))
    )
    return (f'<div class="products w1200 clearfix"><div class="title-box"><h2>产品中心</h2>'
            f'<p>Products</p></div>\n<ul class="clearfix">\n{items}</ul></div>\n')


def _about(rng: random.Random, company: str) -> str:
    paragraphs = "".join(f"<p>{chinese(rng, rng.randint(120, 220))}</p>\n" for _ in range(3))
    return (f'<div class="about w1200 clearfix"><div class="title-box"><h2>关于我们</h2></div>'
            f'<div class="pic"><img src="/uploads/about/company.jpg" alt="{company}"></div>'
            f'<div class="txt"><h3>{company}</h3>\n{paragraphs}'
            f'<a class="more" href="/about/intro.html">了解更多 &gt;</a></div></div>\n')


def _state_script(rng: random.Random, size: int) -> str:
    """An inline JSON state blob, as server-rendered pages carry."""
    records = []
    length = 0
    while length < size:
        record = (f'{{"id":{rng.randint(1, 10**6)},"title":"{chinese(rng, 16)}",'
                  f'"summary":"{chinese(rng, 60)}","date":"{_date(rng)}",'
                  f'"url":"/news/{rng.randint(1000, 99999)}.html","views":{rng.randint(0, 9999)}}}')
        records.append(record)
        length += len(record.encode())
    return f'<script>window.__INITIAL_STATE__={{"news":[{",".join(records)}]}};</script>\n'


def _footer(rng: random.Random, company: str) -> str:
    short, city, region = rng.choice(CITIES)
    icp = f"{short}ICP备{rng.randint(2021, 2025)}{rng.randint(100000, 999999)}号-{rng.randint(1, 3)}"
    psb = f"{short}公网安备{region}0{rng.randint(1000, 9999)}{rng.randint(1000000, 9999999)}号"
    vats = f"{short}B2-{rng.randint(2010, 2024)}{rng.randint(1000, 9999)}"
    code = psb[5:19]
    columns = "".join(
        f"<dl><dt>{chinese(rng, 4)[:4]}</dt>"
        + "".join(f'<dd><a href="/{slug}/{i}.html">{chinese(rng, 4)[:4]}</a></dd>' for i in range(3))
        + "</dl>"
        for slug in ("about", "products", "news", "contact")
    )
    return f"""<div class="links w1200"><span>友情链接：</span>
<a href="https://www.gov.cn/" target="_blank">中国政府网</a>
<a href="https://www.miit.gov.cn/" target="_blank">工业和信息化部</a></div>
<div class="footer"><div class="w1200 clearfix">
<div class="f-nav clearfix">{columns}</div>
<div class="qrcode"><img src="/static/images/qrcode.jpg" alt="微信公众号" width="110"><p>关注微信公众号</p></div>
<div class="f-contact"><p>服务热线：400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}</p>
<p>电子邮箱：service@example.com</p><p>公司地址：{city}市{chinese(rng, 10)}{rng.randint(1, 300)}号</p></div>
</div>
<div class="copyright">
<p>Copyright &copy; 2008-2025 {company} 版权所有</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank" rel="nofollow">{icp}</a>
<a href="https://beian.mps.gov.cn/#/query/webSearch?code={code}" target="_blank" rel="noreferrer">
<img src="/static/images/beian.png" alt="">{psb}</a>
<span>增值电信业务经营许可证：{vats}</span></p>
</div></div>
<script src="/static/js/jquery-1.12.4.min.js"></script>
<script src="/static/js/swiper.min.js"></script>
<script>
$(function(){{
  new Swiper('.swiper-container',{{autoplay:{{delay:5000}},loop:true}});
  $('.nav li').hover(function(){{$(this).find('.sub').stop().slideDown(200)}},function(){{$(this).find('.sub').stop().slideUp(200)}});
}});
</script>
<script>var cnzz_protocol = (("https:" == document.location.protocol) ? "https://" : "http://");document.write(unescape("%3Cspan id='cnzz_stat_icon_{rng.randint(10**9, 10**10)}'%3E%3C/span%3E"));</script>
</body>
</html>
"""


def corporate_page(size: int, seed: int) -> tuple[bytes, str]:
    """A corporate home page of about ``size`` bytes and its charset (GBK when seed % 10 == 0)."""
    rng = random.Random(seed)
    charset = "gbk" if seed % 10 == 0 else "utf-8"
    company = f"{rng.choice(CITIES)[1]}{chinese(rng, 4)[:4]}科技有限公司"
    head, footer = _head(rng, company, charset), _footer(rng, company)
    parts = [head, _nav(rng, company)]
    size_of = (lambda text: len(text.encode(charset)))
    budget = size - size_of(head) - size_of(footer) - size_of(parts[1])
    if size >= 150_000:  # large pages carry server-rendered state
        state = _state_script(rng, budget // 5)
        parts.append(state)
        budget -= size_of(state)
    sections = (lambda: _news(rng), lambda: _products(rng), lambda: _about(rng, company))
    while budget > 0:
        section = sections[len(parts) % 3]()
        parts.append(section)
        budget -= size_of(section)
    parts.append(footer)
    return "".join(parts).encode(charset), charset


# --- adversarial pages ------------------------------------------------------------------

ADVERSARIAL_FOOTER = ('<div class="footer"><p>Copyright &copy; 2025 北京某某科技有限公司</p>'
                      '<p><a href="https://beian.miit.gov.cn/">京ICP备20018813号-3</a></p></div>')


def _filled(unit: str, size: int) -> str:
    return unit * (size // len(unit.encode()) + 1)


def _adversarial_bodies(size: int, links: int) -> dict[str, str]:
    """Page bodies of about ``size`` bytes, one trait each (``links`` links for that one)."""
    nesting = size // 20
    return {
        "digit runs": _filled("<p>京ICP备" + "1" * 5_000 + "号 公网安备" + "9" * 3_000 + "</p>", size),
        "keywords": _filled("<p>京ICP备 备 公网安备 B2- ICP证 粤B2-2009 设备 准备 2024-05-01 "
                            "京公网安备11010802032137号</p>", size),
        "nesting": "<div>" * nesting + "京ICP备20018813号" + "</div>" * nesting,
        "links": "".join(f"<a href=/{i}>{i % 10}</a>" for i in range(links)),
        "attributes": (f'<div title="{"京ICP备20018813号 " * (size // 60)}">x</div>'
                       f'<a href="https://beian.miit.gov.cn/?q={"9" * (size // 3)}">京ICP备2001881</a>'),
        "comments and scripts": _filled("<!-- 京ICP备20018813号 --><script>var icp='京ICP备"
                                        "20018813号';</script><style>.备{}</style>", size),
    }


def adversarial_pages(size: int = 1_000_000) -> dict[str, bytes]:
    """Pages of about ``size`` bytes built to make extraction slow: one per trait (the
    one with 100,000 links is twice as big), all of them at once, and four more; all but
    "links in the footer" end in ``ADVERSARIAL_FOOTER`` or a copyright line with its
    number, which must be found in the footer."""
    head = "<html><head><meta charset='utf-8'></head><body>"
    tail = ADVERSARIAL_FOOTER + "</body></html>"
    bodies = _adversarial_bodies(size, 100_000)
    bodies["everything at once"] = "".join(_adversarial_bodies(size // len(bodies), 100_000 // len(bodies))
                                           .values())
    pages = {name: (head + body + tail).encode() for name, body in bodies.items()}
    pages["links in the footer"] = (head + '<div class="footer">'
                                    + "".join(f'<a href="https://beian.miit.gov.cn/{i}">京ICP备'
                                              f'2001881{i % 10}号</a>' for i in range(20_000))
                                    + "</div></body></html>").encode()
    pages["unclosed tags"] = (head + _filled("<div><p><span><a href='/x'>京ICP备", size // 2)
                              + _filled("<", size // 2) + tail).encode()
    pages["repeated footer parts"] = (head + _filled('<div class="mod"><div class="mod-ft">更多</div></div>'
                                                     '<footer class="entry-footer">x</footer>', size)
                                      + tail).encode()
    pages["footer words, copyright"] = (
        head + _filled('<div class="ft"><div class="ft">x</div></div>', size)
        + '<div class="copyright"><a href="https://beian.miit.gov.cn/">京ICP备20018813号-3</a></div>'
        + "</body></html>").encode()
    return pages


# --- timing ------------------------------------------------------------------------------


def seconds(func: Callable[[], object]) -> float:
    """Wall time of one call, with the garbage collector held off."""
    gc.disable()
    try:
        start = time.perf_counter()
        func()
        return time.perf_counter() - start
    finally:
        gc.enable()


def compare(extractor: Extractor, pages: list[tuple[bytes, str]], repeats: int) -> tuple[float, float]:
    """The best time, over ``repeats`` rounds, to extract all ``pages`` and to parse them
    all with lxml; the two are timed in turns, so noise hits both alike. Each page comes
    from a site of its own, as in a crawl."""

    def extract_all() -> None:
        for site, (body, charset) in enumerate(pages):
            extractor.extract(body, base_url=f"https://www.site{site}.example.cn/",
                              content_type=f"text/html; charset={charset}")

    def parse_all() -> None:
        for body, _ in pages:
            lxml.html.fromstring(body)

    extract_best = parse_best = float("inf")
    for _ in range(repeats):
        extract_best = min(extract_best, seconds(extract_all))
        parse_best = min(parse_best, seconds(parse_all))
    return extract_best, parse_best


def main() -> None:
    extractor = Extractor(load_catalogue(), AUDIT_YEAR)
    compiled = not crawler.extract.__file__.endswith(".py")  # type: ignore[union-attr]
    print("page-reading modules:", "compiled by mypyc" if compiled else
          "plain Python (not compiled here: see setup.py)")
    print(f"{'size':>8} {'pages':>5} {'extract ms':>11} {'lxml ms':>8} {'ratio':>6}")
    for label, size in SIZES.items():
        pages = [corporate_page(size, seed) for seed in range(PAGES_PER_SIZE)]
        extract_total, parse_total = compare(extractor, pages, REPEATS[label])
        per_page = 1000 / len(pages)
        print(f"{label:>8} {len(pages):>5} {extract_total * per_page:>11.3f} "
              f"{parse_total * per_page:>8.3f} {extract_total / parse_total:>6.2f}")
    print("\nadversarial pages (best of 3)")
    for name, body in adversarial_pages().items():
        best = min(seconds(lambda page=body: extractor.extract(page)) for _ in range(3))
        findings = len(extractor.extract(body).findings)
        print(f"  {name:<22} {len(body) / 1e6:5.2f} MB {best * 1000:8.1f} ms  {findings} findings")


if __name__ == "__main__":
    main()
