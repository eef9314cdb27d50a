//! Realistic post content: multilingual Markdown bodies of about 300-800 characters, with
//! objectives, aspects and a kind, pre-rendered once so the raw baseline writes the same
//! values the API would without paying for rendering.

use hub_domain::{lang, markup, search};
use rand::seq::SliceRandom;
use rand::Rng;

/// Sentences per language, written the way members of the regional spaces write.
const EN: &[&str] = &[
    "In our province, migrant domestic workers still cannot change employer without losing their residence permit.",
    "We documented **142 cases** of recruitment fees charged to workers in 2023, despite the national ban.",
    "Local authorities have opened two one-stop centres where newly arrived migrants can register for health care.",
    "Remittance costs remain above 6% on the main corridor, well over the SDG target of 3%.",
    "Children on the move are often detained at the border for weeks while their age is assessed.",
    "The pilot on skills recognition helped nurses trained abroad return to their profession within a year.",
    "Civil society was not consulted when the bilateral labour agreement was renegotiated.",
    "Data on missing migrants is collected by three agencies that do not share their records.",
    "Trade unions now offer membership to seasonal workers in agriculture, regardless of status.",
    "Access to justice remains the largest gap: few migrants report abuse for fear of deportation.",
    "See the [joint report](https://example.org/report-2024) for the full methodology and figures.",
];
const FR: &[&str] = &[
    "Dans notre région, les travailleuses domestiques migrantes ne peuvent toujours pas changer d'employeur.",
    "Les autorités locales ont ouvert un guichet unique pour l'accès aux soins des nouveaux arrivants.",
    "Nous recommandons la **régularisation** des personnes présentes depuis plus de cinq ans.",
    "Le coût des transferts de fonds reste supérieur à 7 % sur le corridor principal.",
    "Les enfants non accompagnés attendent parfois des mois avant d'être pris en charge.",
    "La reconnaissance des diplômes étrangers progresse, mais lentement et de manière inégale.",
    "La société civile n'a pas été associée à la révision de l'accord bilatéral de main-d'œuvre.",
    "Les données sur les migrants disparus sont dispersées entre plusieurs administrations.",
];
const ES: &[&str] = &[
    "En nuestra ciudad, las personas migrantes sin documentos no pueden acceder a la atención primaria.",
    "Recomendamos ampliar el programa de **regularización migratoria** a los trabajadores agrícolas.",
    "Los costos de envío de remesas siguen por encima del 5 % en el corredor principal.",
    "La niñez migrante no acompañada permanece detenida en estaciones migratorias durante semanas.",
    "El reconocimiento de títulos obtenidos en el extranjero ha mejorado gracias a un acuerdo regional.",
    "Las organizaciones de la diáspora participaron por primera vez en la consulta nacional.",
    "Faltan datos desagregados por sexo y edad sobre las personas migrantes desaparecidas.",
    "Más información en el [informe conjunto](https://example.org/informe) de la red regional.",
];
const AR: &[&str] = &[
    "لا يزال العمال المهاجرون في قطاع البناء يواجهون صعوبات في الحصول على أجورهم في الوقت المحدد.",
    "نوصي بإلغاء نظام الكفالة وتمكين العمال من تغيير صاحب العمل دون إذن مسبق.",
    "افتتحت البلدية مركزاً جديداً لتقديم الخدمات الصحية والقانونية للمهاجرين الجدد.",
    "تبقى تكاليف التحويلات المالية مرتفعة، إذ تتجاوز ستة في المائة في الممر الرئيسي.",
    "يُحتجز الأطفال غير المصحوبين لفترات طويلة في انتظار تحديد أعمارهم.",
    "شاركت منظمات المجتمع المدني لأول مرة في إعداد التقرير الوطني الطوعي.",
    "لا تتوفر بيانات موحدة عن المهاجرين المفقودين على طرق الهجرة البحرية.",
];
const ZH: &[&str] = &[
    "在我们省，移民家政工人仍然无法在不失去居留许可的情况下更换雇主。",
    "我们记录了二零二三年向工人收取招聘费的一百四十二个案例，尽管国家已经明令禁止。",
    "地方政府开设了两个一站式服务中心，新抵达的移民可以在那里登记医疗服务。",
    "主要汇款通道的费用仍高于百分之六，远远超过可持续发展目标的百分之三。",
    "海外培训的护士通过技能认证试点项目，在一年内重新回到了本职工作。",
    "民间社会在重新谈判双边劳务协议时没有得到咨询。",
    "建议建立区域性的失踪移民数据共享机制，由各国统计部门共同维护。",
];
const RU: &[&str] = &[
    "Трудящиеся-мигранты по-прежнему сталкиваются с задержками заработной платы на стройках.",
    "Мы рекомендуем упростить процедуру получения патента для сезонных работников.",
    "Местные власти открыли центр, где мигранты могут получить юридическую консультацию.",
    "Стоимость денежных переводов остаётся выше пяти процентов в основном коридоре.",
    "Данные о пропавших без вести мигрантах разрознены между несколькими ведомствами.",
    "Организации диаспоры впервые участвовали в национальных консультациях.",
];
const PT: &[&str] = &[
    "Os trabalhadores migrantes na agricultura continuam sem acesso à proteção social.",
    "Recomendamos a criação de um balcão único para a **regularização** de migrantes.",
    "O custo das remessas continua acima de 6% no principal corredor da região.",
    "As organizações da diáspora participaram pela primeira vez na consulta nacional.",
    "Faltam dados desagregados sobre migrantes desaparecidos nas rotas marítimas.",
];

const LANGS: &[(&str, &[&str])] = &[
    ("en", EN),
    ("en", EN),
    ("fr", FR),
    ("es", ES),
    ("ar", AR),
    ("zh", ZH),
    ("ru", RU),
    ("pt", PT),
];

const ASPECTS: &[&str] = &["priority", "progress", "gap", "practice", "collaboration"];

/// One post's content, as sent to the API and as the API would store it.
#[derive(Debug, Clone)]
pub struct Body {
    /// Markdown.
    pub markdown: String,
    /// Declared language (sent), or `None` to let the hub detect it.
    pub declared: Option<String>,
    /// The language the hub stores (declared, else detected).
    pub language: Option<String>,
    /// Whether `language` was detected.
    pub language_detected: bool,
    /// Sanitised HTML.
    pub html: String,
    /// Folded search terms.
    pub terms: String,
    /// `comment`, `recommendation` or `report`.
    pub kind: &'static str,
    /// GCM objectives.
    pub objectives: Vec<i64>,
    /// Aspects.
    pub aspects: Vec<&'static str>,
}

/// A random Markdown body of 300-800 characters in one language.
fn markdown(rng: &mut impl Rng, pool: &[&str]) -> String {
    let target = rng.gen_range(300..=800);
    let mut out = String::new();
    let as_list = rng.gen_bool(0.3);
    let mut sentences: Vec<&str> = pool.to_vec();
    sentences.shuffle(rng);
    let mut i = 0;
    while out.chars().count() < target && i < sentences.len() * 3 {
        let s = sentences[i % sentences.len()];
        let next = out.chars().count() + s.chars().count();
        if next > 800 && !out.is_empty() {
            break;
        }
        if as_list && i > 0 {
            out.push_str("\n- ");
        } else if i > 0 && i % 3 == 0 {
            out.push_str("\n\n");
        } else if i > 0 {
            out.push(' ');
        }
        out.push_str(s);
        i += 1;
    }
    out
}

/// A pool of `n` bodies, rendered once.
pub fn pool(n: usize, rng: &mut impl Rng) -> Vec<Body> {
    (0..n)
        .map(|_| {
            let (tag, sentences) = LANGS[rng.gen_range(0..LANGS.len())];
            let md = markdown(rng, sentences);
            let declared = rng.gen_bool(0.5).then(|| tag.to_string());
            let plain = markup::plain_text(&md);
            let (language, language_detected) = match &declared {
                Some(l) => (Some(l.clone()), false),
                None => {
                    let d = lang::detect(&plain);
                    let detected = d.is_some();
                    (d, detected)
                }
            };
            let kind = match rng.gen_range(0..10) {
                0..=6 => "comment",
                7..=8 => "recommendation",
                _ => "report",
            };
            let mut objectives: Vec<i64> = (1..=23).collect();
            objectives.shuffle(rng);
            objectives.truncate(rng.gen_range(1..=3));
            objectives.sort_unstable();
            let mut aspects: Vec<&'static str> = ASPECTS.to_vec();
            aspects.shuffle(rng);
            aspects.truncate(rng.gen_range(0..=2));
            Body {
                html: markup::render_markdown(&md),
                terms: search::index_text(&plain),
                markdown: md,
                declared,
                language,
                language_detected,
                kind,
                objectives,
                aspects,
            }
        })
        .collect()
}

/// Thread titles.
pub const TITLES: &[&str] = &[
    "Fair recruitment and decent work: progress since 2022",
    "Access to basic services for migrants regardless of status",
    "Reducing remittance costs on the main corridors",
    "Children on the move: alternatives to detention",
    "Recognition of skills and qualifications",
    "Missing migrants: data, search and identification",
];
