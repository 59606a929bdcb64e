"""信息资源分类: the default class tree (类 1 digit / 项 2 / 目 3 / 细目) and its look-ups."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.catalog.models import ResourceClass

# (code, 名称, English name); the parent is the code without its last level
DEFAULT_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("1", "基础信息资源", "Basic information resources"),
    ("101", "人口", "Population"),
    ("101001", "人口基本信息", "Basic population information"),
    ("101002", "户籍人口", "Registered residents"),
    ("101003", "流动人口", "Migrant population"),
    ("102", "法人单位", "Legal entities"),
    ("102001", "法人基本信息", "Basic legal entity information"),
    ("102002", "社会组织", "Social organisations"),
    ("103", "自然资源和空间地理", "Natural resources and geospatial information"),
    ("103001", "基础地理", "Base geography"),
    ("103002", "自然资源", "Natural resources"),
    ("103003", "不动产登记", "Real estate registration"),
    ("104", "社会信用", "Social credit"),
    ("104001", "企业信用", "Enterprise credit"),
    ("104002", "个人信用", "Personal credit"),
    ("105", "电子证照", "Electronic licences and certificates"),
    ("105001", "证照目录", "Licence catalogue"),
    ("2", "主题信息资源", "Thematic information resources"),
    ("201", "生态环境", "Ecology and environment"),
    ("201001", "大气环境", "Air quality"),
    ("201002", "水环境", "Water environment"),
    ("201003", "污染源", "Pollution sources"),
    ("201004", "生态保护", "Ecological protection"),
    ("202", "水务", "Water affairs"),
    ("202001", "水文水资源", "Hydrology and water resources"),
    ("202002", "供水排水", "Water supply and drainage"),
    ("202003", "防汛抗旱", "Flood control and drought relief"),
    ("203", "交通运输", "Transport"),
    ("203001", "公共交通", "Public transport"),
    ("203002", "道路交通", "Road traffic"),
    ("203003", "港口航运", "Ports and shipping"),
    ("204", "卫生健康", "Health"),
    ("204001", "医疗机构", "Medical institutions"),
    ("204002", "公共卫生", "Public health"),
    ("205", "教育", "Education"),
    ("205001", "学校", "Schools"),
    ("205002", "招生考试", "Admissions and examinations"),
    ("206", "民政", "Civil affairs"),
    ("206001", "社会救助", "Social assistance"),
    ("206002", "养老服务", "Elderly care"),
    ("207", "应急管理", "Emergency management"),
    ("207001", "应急资源", "Emergency resources"),
    ("207002", "突发事件", "Emergencies"),
    ("208", "气象", "Meteorology"),
    ("208001", "气象观测", "Weather observations"),
    ("208002", "气象预警", "Weather warnings"),
    ("209", "住房城乡建设", "Housing and urban-rural development"),
    ("209001", "住房保障", "Housing security"),
    ("209002", "建设工程", "Construction projects"),
    ("210", "人力资源社会保障", "Human resources and social security"),
    ("210001", "就业", "Employment"),
    ("210002", "社会保险", "Social insurance"),
    ("211", "市场监管", "Market regulation"),
    ("211001", "市场主体", "Market entities"),
    ("211002", "食品药品安全", "Food and drug safety"),
    ("212", "公共安全", "Public safety"),
    ("212001", "治安管理", "Public order"),
    ("212002", "消防", "Fire protection"),
    ("213", "文化和旅游", "Culture and tourism"),
    ("214", "城市管理", "Urban management"),
    ("3", "部门信息资源", "Departmental information resources"),
)
DEPARTMENT_ROOT = "3"


def parent_of(code: str) -> str | None:
    """类 1 digit, 项 +2, 目 +3, 细目 +3 or more."""
    if len(code) <= 1:
        return None
    if len(code) <= 3:
        return code[:1]
    if len(code) <= 6:
        return code[:3]
    return code[:6]


def level_of(code: str) -> int:
    return 1 if len(code) <= 1 else 2 if len(code) <= 3 else 3 if len(code) <= 6 else 4


def _add(session: Session, code: str, name: str, name_en: str) -> bool:
    """Insert one class; False when it exists (also under a concurrent seeder)."""
    if session.get(ResourceClass, code) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                ResourceClass(
                    code=code,
                    name=name,
                    name_en=name_en,
                    parent_code=parent_of(code),
                    level=level_of(code),
                )
            )
    except IntegrityError:
        return False
    return True


def ensure_default_classes(session: Session) -> int:
    """Seed the default tree and one 部门信息资源 class per government department.

    Idempotent: existing codes are kept as they are; returns how many classes were added.
    """
    added = sum(_add(session, code, name, en) for code, name, en in DEFAULT_CLASSES)
    added += ensure_department_classes(session)
    return added


def ensure_department_classes(session: Session) -> int:
    """3xx: one 项 under 部门信息资源 per government department, in the directory's order."""
    from cityos.directory.services import list_organisations

    if session.get(ResourceClass, DEPARTMENT_ROOT) is None:
        return 0
    existing = {
        c.name: c.code
        for c in session.scalars(
            select(ResourceClass).where(ResourceClass.parent_code == DEPARTMENT_ROOT)
        )
    }
    taken = {int(code[1:]) for code in existing.values() if code[1:].isdigit()}
    added = 0
    for org in list_organisations(session, "government"):
        if org.name in existing:
            continue
        number = next((n for n in range(1, 100) if n not in taken), None)
        if number is None:
            break
        taken.add(number)
        code = f"{DEPARTMENT_ROOT}{number:02d}"
        added += _add(session, code, org.name, f"Department resources ({org.uscc})")
    return added


def has_classes(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(ResourceClass)))


def list_classes(session: Session) -> list[ResourceClass]:
    """Every class in code order; seeds the default tree on a new installation."""
    if not has_classes(session):
        ensure_default_classes(session)
    return list(session.scalars(select(ResourceClass).order_by(ResourceClass.code)))


def class_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(ResourceClass.code, ResourceClass.name)).all())
