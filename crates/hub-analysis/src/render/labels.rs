//! Every word the renderings print that does not come from the document, in English, French
//! and Spanish. Objective titles come from [`hub_domain::objectives`]; codes the tables below
//! do not know (a new reason code, a rare language tag) are printed as they are rather than
//! dropped, so a new code shows up in the document instead of vanishing from it.

/// The labels of one language.
#[derive(Debug)]
pub struct Labels {
    /// BCP 47 tag of these labels (`en`, `fr`, `es`), used as the page's `lang`.
    pub lang: &'static str,
    /// Above the title on the cover.
    pub publisher: &'static str,
    /// Document title, before the region's name.
    pub title: &'static str,
    /// Table of contents heading.
    pub contents: &'static str,
    /// Between a label and its value: French puts a no-break space before the colon.
    pub colon: &'static str,

    // Cover.
    pub review: &'static str,
    pub review_date: &'static str,
    pub review_place: &'static str,
    pub tentative: &'static str,
    pub cycle: &'static str,
    pub commission: &'static str,
    pub cutoff: &'static str,
    pub cutoff_event: &'static str,
    pub version: &'static str,
    pub fingerprint: &'static str,
    pub licence: &'static str,
    pub sources: &'static str,
    pub working_languages: &'static str,
    pub no_review: &'static str,

    // Section titles.
    pub changes: &'static str,
    pub participation: &'static str,
    pub moderation: &'static str,
    pub priorities: &'static str,
    pub in_depth: &'static str,
    pub aspects: &'static str,
    pub recommendations: &'static str,
    pub emerging: &'static str,
    pub methodology: &'static str,
    pub annex: &'static str,

    // Participation.
    pub headline: &'static str,
    pub posts: &'static str,
    pub threads: &'static str,
    pub authors: &'static str,
    pub organisations: &'static str,
    pub countries: &'static str,
    pub stakeholder_groups: &'static str,
    pub languages: &'static str,
    pub endorsements: &'static str,
    pub by_kind: &'static str,
    pub kind: &'static str,
    pub share: &'static str,
    pub weekly: &'static str,
    /// Row of the weekly table for posts before its first week.
    pub weekly_earlier: &'static str,
    pub week: &'static str,
    pub week_starting: &'static str,
    pub by_group: &'static str,
    pub by_country: &'static str,
    pub by_language: &'static str,
    pub group: &'static str,
    pub country: &'static str,
    pub language: &'static str,
    pub total: &'static str,
    pub figure: &'static str,
    pub value: &'static str,

    // Moderation.
    pub excluded_intro: &'static str,
    pub excluded_total: &'static str,
    pub pending: &'static str,
    pub hidden: &'static str,
    pub removed: &'static str,
    pub reason: &'static str,
    pub by_reason: &'static str,

    // Priorities.
    pub priorities_intro: &'static str,
    pub objectives_chart: &'static str,
    pub rank: &'static str,
    pub objective: &'static str,
    pub objective_n: &'static str,
    pub of_which_recommendations: &'static str,
    pub cluster: &'static str,
    pub cluster_totals: &'static str,
    pub objectives: &'static str,
    pub in_depth_marker: &'static str,

    // In depth.
    pub key_terms: &'static str,
    pub term: &'static str,
    pub score: &'static str,
    pub representative: &'static str,
    pub no_quotes: &'static str,
    pub no_terms: &'static str,
    pub top_objectives: &'static str,

    // Recommendations.
    pub recommendations_intro: &'static str,
    pub consensus: &'static str,
    pub supporting_groups: &'static str,
    pub endorsements_by_group: &'static str,
    pub merged: &'static str,
    pub none: &'static str,

    // Emerging.
    pub emerging_intro: &'static str,

    // Changes.
    pub previous_version: &'static str,
    pub previous_cutoff: &'static str,
    pub added: &'static str,
    pub withdrawn: &'static str,
    pub change: &'static str,
    pub objectives_moved: &'static str,
    pub previous_rank: &'static str,
    pub new_top_recommendations: &'static str,

    // Quotes and annex.
    pub post: &'static str,
    pub thread: &'static str,
    pub open_post: &'static str,
    pub aspect: &'static str,
    pub organisation: &'static str,
    pub created: &'static str,
    pub annex_intro: &'static str,
    pub link: &'static str,
    pub links_relative: &'static str,
    pub unknown: &'static str,
    pub chart_data_below: &'static str,
    pub generated_note: &'static str,
}

/// English.
pub static EN: Labels = Labels {
    lang: "en",
    colon: ": ",
    publisher: "United Nations Network on Migration · Global Compact for Migration regional review",
    title: "Analysis of stakeholder contributions",
    contents: "Contents",
    review: "Regional review",
    review_date: "Date",
    review_place: "Place",
    tentative: "tentative",
    cycle: "Review cycle",
    commission: "Regional commission",
    cutoff: "Contributions up to",
    cutoff_event: "snapshot event",
    version: "Version",
    fingerprint: "Content fingerprint (SHA-256)",
    licence: "Data licence",
    sources: "Imported sources",
    working_languages: "Working languages",
    no_review: "not yet scheduled",
    changes: "What changed since the previous version",
    participation: "Participation",
    moderation: "Posts excluded by moderation",
    priorities: "Thematic priorities",
    in_depth: "Prominent objectives in depth",
    aspects: "Progress, gaps, good practices and collaboration",
    recommendations: "Recommendations",
    emerging: "Emerging issues",
    methodology: "Methodology",
    annex: "Annex: contributions counted",
    headline: "Headline figures",
    posts: "Posts",
    threads: "Threads",
    authors: "Authors",
    organisations: "Organisations",
    countries: "Countries",
    stakeholder_groups: "Stakeholder groups",
    languages: "Languages",
    endorsements: "Endorsements",
    by_kind: "Posts by kind",
    kind: "Kind",
    share: "Share",
    weekly: "Posts week by week",
    weekly_earlier: "Earlier weeks",
    week: "Week",
    week_starting: "Starting",
    by_group: "Posts by stakeholder group",
    by_country: "Posts by country",
    by_language: "Posts by language",
    group: "Stakeholder group",
    country: "Country",
    language: "Language",
    total: "Total",
    figure: "Figure",
    value: "Count",
    excluded_intro: "Posts written before the cutoff that moderation kept out of this document. Only counts are given; the posts themselves are neither quoted nor counted elsewhere.",
    excluded_total: "Excluded posts",
    pending: "Awaiting pre-moderation",
    hidden: "Hidden",
    removed: "Removed",
    reason: "Reason",
    by_reason: "Hidden and removed posts by reason",
    priorities_intro: "The 23 objectives of the Global Compact, ranked by the number of contributions tagged with each (ties broken by endorsements), grouped by the four round-table clusters of the International Migration Review Forum.",
    objectives_chart: "Contributions per objective, coloured by cluster",
    rank: "Rank",
    objective: "Objective",
    objective_n: "Objective",
    of_which_recommendations: "Of which recommendations",
    cluster: "Cluster",
    cluster_totals: "Cluster totals",
    objectives: "Objectives",
    in_depth_marker: "analysed in depth",
    key_terms: "Key terms",
    term: "Term",
    score: "Score (TF-IDF)",
    representative: "Representative contributions",
    no_quotes: "No contribution to quote.",
    no_terms: "No distinctive term.",
    top_objectives: "Objectives most often concerned",
    recommendations_intro: "Recommendations ranked by group-informed consensus: support from many stakeholder groups counts for more than many endorsements from one group. Near-duplicate recommendations are merged into the one quoted.",
    consensus: "Consensus",
    supporting_groups: "Supporting groups",
    endorsements_by_group: "Endorsements by group",
    merged: "Merged near-duplicates",
    none: "None.",
    emerging_intro: "Contributions tagged with no objective of the Global Compact: issues the objectives may not yet capture.",
    previous_version: "Previous version",
    previous_cutoff: "Previous cutoff",
    added: "Contributions added",
    withdrawn: "Contributions withdrawn",
    change: "Change",
    objectives_moved: "Objectives whose rank changed",
    previous_rank: "Previous rank",
    new_top_recommendations: "New in the top 10 recommendations",
    post: "Post",
    thread: "Thread",
    open_post: "open the post",
    aspect: "Aspects",
    organisation: "Organisation",
    created: "Posted (UTC)",
    link: "Link",
    links_relative: "Links are relative to",
    annex_intro: "Every contribution counted in this document, by post id. The same list is available as CSV.",
    unknown: "unknown",
    chart_data_below: "The data are in the table below.",
    generated_note: "Generated from the hub's data; figures and quotes can be traced to each post through the links and the annex.",
};

/// French.
pub static FR: Labels = Labels {
    lang: "fr",
    colon: "\u{a0}: ",
    publisher: "Réseau des Nations Unies sur les migrations · Examen régional du Pacte mondial sur les migrations",
    title: "Analyse des contributions des parties prenantes",
    contents: "Sommaire",
    review: "Examen régional",
    review_date: "Date",
    review_place: "Lieu",
    tentative: "provisoire",
    cycle: "Cycle d'examen",
    commission: "Commission régionale",
    cutoff: "Contributions jusqu'au",
    cutoff_event: "événement de l'instantané",
    version: "Version",
    fingerprint: "Empreinte du contenu (SHA-256)",
    licence: "Licence des données",
    sources: "Sources importées",
    working_languages: "Langues de travail",
    no_review: "pas encore fixé",
    changes: "Modifications depuis la version précédente",
    participation: "Participation",
    moderation: "Messages exclus par la modération",
    priorities: "Priorités thématiques",
    in_depth: "Objectifs principaux en détail",
    aspects: "Progrès, lacunes, bonnes pratiques et collaboration",
    recommendations: "Recommandations",
    emerging: "Questions émergentes",
    methodology: "Méthodologie",
    annex: "Annexe\u{a0}: contributions prises en compte",
    headline: "Chiffres clés",
    posts: "Messages",
    threads: "Fils de discussion",
    authors: "Auteurs",
    organisations: "Organisations",
    countries: "Pays",
    stakeholder_groups: "Groupes de parties prenantes",
    languages: "Langues",
    endorsements: "Soutiens",
    by_kind: "Messages par type",
    kind: "Type",
    share: "Part",
    weekly: "Messages semaine par semaine",
    weekly_earlier: "Semaines antérieures",
    week: "Semaine",
    week_starting: "Début",
    by_group: "Messages par groupe de parties prenantes",
    by_country: "Messages par pays",
    by_language: "Messages par langue",
    group: "Groupe de parties prenantes",
    country: "Pays",
    language: "Langue",
    total: "Total",
    figure: "Figure",
    value: "Nombre",
    excluded_intro: "Messages rédigés avant la date limite que la modération a écartés de ce document. Seuls les nombres sont donnés ; les messages eux-mêmes ne sont ni cités ni comptés ailleurs.",
    excluded_total: "Messages exclus",
    pending: "En attente de modération préalable",
    hidden: "Masqués",
    removed: "Supprimés",
    reason: "Motif",
    by_reason: "Messages masqués et supprimés par motif",
    priorities_intro: "Les 23 objectifs du Pacte mondial, classés selon le nombre de contributions qui s'y rapportent (à égalité, selon les soutiens), regroupés selon les quatre groupes thématiques des tables rondes du Forum d'examen des migrations internationales.",
    objectives_chart: "Contributions par objectif, couleur selon le groupe thématique",
    rank: "Rang",
    objective: "Objectif",
    objective_n: "Objectif",
    of_which_recommendations: "Dont recommandations",
    cluster: "Groupe thématique",
    cluster_totals: "Totaux par groupe thématique",
    objectives: "Objectifs",
    in_depth_marker: "analysé en détail",
    key_terms: "Termes clés",
    term: "Terme",
    score: "Score (TF-IDF)",
    representative: "Contributions représentatives",
    no_quotes: "Aucune contribution à citer.",
    no_terms: "Aucun terme distinctif.",
    top_objectives: "Objectifs les plus souvent concernés",
    recommendations_intro: "Recommandations classées selon un consensus pondéré par groupe : le soutien de nombreux groupes de parties prenantes compte davantage que de nombreux soutiens d'un seul groupe. Les recommandations quasi identiques sont fusionnées avec celle qui est citée.",
    consensus: "Consensus",
    supporting_groups: "Groupes en soutien",
    endorsements_by_group: "Soutiens par groupe",
    merged: "Quasi-doublons fusionnés",
    none: "Aucun.",
    emerging_intro: "Contributions qui ne se rattachent à aucun objectif du Pacte mondial : des questions que les objectifs ne couvrent peut-être pas encore.",
    previous_version: "Version précédente",
    previous_cutoff: "Date limite précédente",
    added: "Contributions ajoutées",
    withdrawn: "Contributions retirées",
    change: "Variation",
    objectives_moved: "Objectifs dont le rang a changé",
    previous_rank: "Rang précédent",
    new_top_recommendations: "Nouvelles parmi les 10 premières recommandations",
    post: "Message",
    thread: "Fil",
    open_post: "ouvrir le message",
    aspect: "Aspects",
    organisation: "Organisation",
    created: "Publié (UTC)",
    link: "Lien",
    links_relative: "Les liens partent de",
    annex_intro: "Toutes les contributions prises en compte dans ce document, par identifiant de message. La même liste est disponible au format CSV.",
    unknown: "inconnu",
    chart_data_below: "Les données figurent dans le tableau ci-dessous.",
    generated_note: "Produit à partir des données de la plateforme ; chiffres et citations renvoient à chaque message par les liens et l'annexe.",
};

/// Spanish.
pub static ES: Labels = Labels {
    lang: "es",
    colon: ": ",
    publisher: "Red de las Naciones Unidas sobre la Migración · Examen regional del Pacto Mundial para la Migración",
    title: "Análisis de las contribuciones de las partes interesadas",
    contents: "Índice",
    review: "Examen regional",
    review_date: "Fecha",
    review_place: "Lugar",
    tentative: "provisional",
    cycle: "Ciclo de examen",
    commission: "Comisión regional",
    cutoff: "Contribuciones hasta el",
    cutoff_event: "evento de la instantánea",
    version: "Versión",
    fingerprint: "Huella del contenido (SHA-256)",
    licence: "Licencia de los datos",
    sources: "Fuentes importadas",
    working_languages: "Idiomas de trabajo",
    no_review: "aún sin fecha",
    changes: "Cambios desde la versión anterior",
    participation: "Participación",
    moderation: "Mensajes excluidos por la moderación",
    priorities: "Prioridades temáticas",
    in_depth: "Objetivos destacados en detalle",
    aspects: "Avances, brechas, buenas prácticas y colaboración",
    recommendations: "Recomendaciones",
    emerging: "Cuestiones emergentes",
    methodology: "Metodología",
    annex: "Anexo: contribuciones contabilizadas",
    headline: "Cifras principales",
    posts: "Mensajes",
    threads: "Hilos",
    authors: "Autores",
    organisations: "Organizaciones",
    countries: "Países",
    stakeholder_groups: "Grupos de partes interesadas",
    languages: "Idiomas",
    endorsements: "Apoyos",
    by_kind: "Mensajes por tipo",
    kind: "Tipo",
    share: "Proporción",
    weekly: "Mensajes semana a semana",
    weekly_earlier: "Semanas anteriores",
    week: "Semana",
    week_starting: "Inicio",
    by_group: "Mensajes por grupo de partes interesadas",
    by_country: "Mensajes por país",
    by_language: "Mensajes por idioma",
    group: "Grupo de partes interesadas",
    country: "País",
    language: "Idioma",
    total: "Total",
    figure: "Figura",
    value: "Número",
    excluded_intro: "Mensajes escritos antes de la fecha de corte que la moderación dejó fuera de este documento. Solo se indican las cifras; los mensajes no se citan ni se cuentan en otra parte.",
    excluded_total: "Mensajes excluidos",
    pending: "Pendientes de moderación previa",
    hidden: "Ocultos",
    removed: "Eliminados",
    reason: "Motivo",
    by_reason: "Mensajes ocultos y eliminados por motivo",
    priorities_intro: "Los 23 objetivos del Pacto Mundial, ordenados según el número de contribuciones que se refieren a cada uno (en caso de empate, según los apoyos), agrupados según los cuatro grupos temáticos de las mesas redondas del Foro de Examen de la Migración Internacional.",
    objectives_chart: "Contribuciones por objetivo, color según el grupo temático",
    rank: "Puesto",
    objective: "Objetivo",
    objective_n: "Objetivo",
    of_which_recommendations: "De ellas, recomendaciones",
    cluster: "Grupo temático",
    cluster_totals: "Totales por grupo temático",
    objectives: "Objetivos",
    in_depth_marker: "analizado en detalle",
    key_terms: "Términos clave",
    term: "Término",
    score: "Puntuación (TF-IDF)",
    representative: "Contribuciones representativas",
    no_quotes: "Ninguna contribución que citar.",
    no_terms: "Ningún término distintivo.",
    top_objectives: "Objetivos más frecuentes",
    recommendations_intro: "Recomendaciones ordenadas según un consenso ponderado por grupo: el apoyo de muchos grupos de partes interesadas cuenta más que muchos apoyos de un solo grupo. Las recomendaciones casi idénticas se fusionan con la citada.",
    consensus: "Consenso",
    supporting_groups: "Grupos que apoyan",
    endorsements_by_group: "Apoyos por grupo",
    merged: "Casi duplicados fusionados",
    none: "Ninguno.",
    emerging_intro: "Contribuciones que no se refieren a ningún objetivo del Pacto Mundial: cuestiones que los objetivos quizá aún no recogen.",
    previous_version: "Versión anterior",
    previous_cutoff: "Fecha de corte anterior",
    added: "Contribuciones añadidas",
    withdrawn: "Contribuciones retiradas",
    change: "Variación",
    objectives_moved: "Objetivos cuyo puesto cambió",
    previous_rank: "Puesto anterior",
    new_top_recommendations: "Nuevas entre las 10 primeras recomendaciones",
    post: "Mensaje",
    thread: "Hilo",
    open_post: "abrir el mensaje",
    aspect: "Aspectos",
    organisation: "Organización",
    created: "Publicado (UTC)",
    link: "Enlace",
    links_relative: "Los enlaces parten de",
    annex_intro: "Todas las contribuciones contabilizadas en este documento, por identificador de mensaje. La misma lista está disponible en CSV.",
    unknown: "desconocido",
    chart_data_below: "Los datos figuran en la tabla siguiente.",
    generated_note: "Elaborado a partir de los datos de la plataforma; cifras y citas remiten a cada mensaje mediante los enlaces y el anexo.",
};

/// The labels for `lang`; English for anything but `fr` and `es`.
pub fn labels(lang: &str) -> &'static Labels {
    match lang {
        "fr" => &FR,
        "es" => &ES,
        _ => &EN,
    }
}

/// Picks the `[en, fr, es]` entry for `lang`.
fn pick(lang: &str, t: [&'static str; 3]) -> &'static str {
    match lang {
        "fr" => t[1],
        "es" => t[2],
        _ => t[0],
    }
}

impl Labels {
    /// A post kind (`comment`, `recommendation`, `report`); other codes as they are.
    pub fn kind_label<'a>(&self, code: &'a str) -> &'a str {
        let t = match code {
            "comment" => ["Comment", "Commentaire", "Comentario"],
            "recommendation" => ["Recommendation", "Recommandation", "Recomendación"],
            "report" => ["Report", "Rapport", "Informe"],
            _ => return code,
        };
        pick(self.lang, t)
    }

    /// An aspect code.
    pub fn aspect_label<'a>(&self, code: &'a str) -> &'a str {
        let t = match code {
            "priority" => ["Priorities", "Priorités", "Prioridades"],
            "progress" => ["Progress", "Progrès", "Avances"],
            "gap" => [
                "Implementation gaps",
                "Lacunes de mise en œuvre",
                "Brechas de implementación",
            ],
            "practice" => ["Good practices", "Bonnes pratiques", "Buenas prácticas"],
            "collaboration" => [
                "Collaboration mechanisms",
                "Mécanismes de collaboration",
                "Mecanismos de colaboración",
            ],
            _ => return code,
        };
        pick(self.lang, t)
    }

    /// A stakeholder group code (the 17 of `hub_domain::StakeholderGroup`).
    pub fn group_label<'a>(&self, code: &'a str) -> &'a str {
        let t = match code {
            "migrant_org" => [
                "Migrants and migrant-led organisations",
                "Migrants et organisations dirigées par des migrants",
                "Migrantes y organizaciones dirigidas por migrantes",
            ],
            "diaspora_org" => [
                "Diaspora organisations",
                "Organisations de la diaspora",
                "Organizaciones de la diáspora",
            ],
            "civil_society" => [
                "Civil society / NGOs",
                "Société civile / ONG",
                "Sociedad civil / ONG",
            ],
            "faith_based" => [
                "Faith-based organisations",
                "Organisations confessionnelles",
                "Organizaciones confesionales",
            ],
            "trade_union" => ["Trade unions", "Syndicats", "Sindicatos"],
            "private_sector" => ["Private sector", "Secteur privé", "Sector privado"],
            "academia" => ["Academia", "Milieu universitaire", "Sector académico"],
            "local_authority" => [
                "Local and regional authorities",
                "Autorités locales et régionales",
                "Autoridades locales y regionales",
            ],
            "parliamentarian" => ["Parliamentarians", "Parlementaires", "Parlamentarios"],
            "nhri" => [
                "National human rights institutions",
                "Institutions nationales des droits de l'homme",
                "Instituciones nacionales de derechos humanos",
            ],
            "red_cross_red_crescent" => [
                "Red Cross / Red Crescent",
                "Croix-Rouge / Croissant-Rouge",
                "Cruz Roja / Media Luna Roja",
            ],
            "media" => ["Media", "Médias", "Medios de comunicación"],
            "youth" => [
                "Children and youth",
                "Enfants et jeunes",
                "Niñez y juventud",
            ],
            "philanthropy" => [
                "Philanthropic foundations",
                "Fondations philanthropiques",
                "Fundaciones filantrópicas",
            ],
            "un_entity" => [
                "UN entities",
                "Entités des Nations Unies",
                "Entidades de las Naciones Unidas",
            ],
            "member_state" => ["Member States", "États membres", "Estados Miembros"],
            "other" => ["Other", "Autres", "Otros"],
            _ => return code,
        };
        pick(self.lang, t)
    }

    /// A moderation reason code.
    pub fn reason_label<'a>(&self, code: &'a str) -> &'a str {
        let t = match code {
            "spam" => ["Spam", "Spam", "Spam"],
            "abuse" => ["Abuse", "Propos abusifs", "Abuso"],
            "off_topic" => ["Off topic", "Hors sujet", "Fuera de tema"],
            "personal_data" => ["Personal data", "Données personnelles", "Datos personales"],
            "author" => [
                "Removed by the author",
                "Supprimé par l'auteur",
                "Eliminado por el autor",
            ],
            "other" => ["Other", "Autre", "Otro"],
            _ => return code,
        };
        pick(self.lang, t)
    }

    /// A language tag, named for the UN's official languages, Portuguese and `und`.
    pub fn language_label<'a>(&self, tag: &'a str) -> &'a str {
        let primary = tag.split('-').next().unwrap_or(tag);
        if primary != tag {
            return tag;
        }
        let t = match tag {
            "en" => ["English", "anglais", "inglés"],
            "fr" => ["French", "français", "francés"],
            "es" => ["Spanish", "espagnol", "español"],
            "ar" => ["Arabic", "arabe", "árabe"],
            "zh" => ["Chinese", "chinois", "chino"],
            "ru" => ["Russian", "russe", "ruso"],
            "pt" => ["Portuguese", "portugais", "portugués"],
            "und" => ["Undetermined", "indéterminée", "indeterminado"],
            _ => return tag,
        };
        pick(self.lang, t)
    }

    /// A country code; `unknown` is translated, ISO codes stay codes.
    pub fn country_label<'a>(&self, code: &'a str) -> &'a str {
        if code == "unknown" {
            self.unknown
        } else {
            code
        }
    }

    /// A region's name, by slug; `fallback` (the document's English name) for other slugs.
    pub fn region_label<'a>(&self, slug: &str, fallback: &'a str) -> &'a str {
        let t = match slug {
            "africa" => ["Africa", "Afrique", "África"],
            "arab-region" => ["Arab region", "Région arabe", "Región árabe"],
            "asia-pacific" => [
                "Asia and the Pacific",
                "Asie et Pacifique",
                "Asia y el Pacífico",
            ],
            "europe" => ["Europe", "Europe", "Europa"],
            "latin-america-caribbean" => [
                "Latin America and the Caribbean",
                "Amérique latine et Caraïbes",
                "América Latina y el Caribe",
            ],
            _ => return fallback,
        };
        pick(self.lang, t)
    }

    /// `Cluster 1`, `Groupe thématique 1`, ...
    pub fn cluster_name(&self, id: i64) -> String {
        format!("{} {id}", self.cluster)
    }

    /// An objective's number and short title: `7. Reduce vulnerabilities`.
    pub fn objective_title(&self, id: i64) -> String {
        match hub_domain::objectives::objective(id) {
            Some(o) => format!("{id}. {}", o.short_title(self.lang)),
            None => format!("{} {id}", self.objective_n),
        }
    }

    /// The full (English) title of an objective, when it exists.
    pub fn objective_full(&self, id: i64) -> Option<&'static str> {
        hub_domain::objectives::objective(id).map(|o| o.title_en)
    }

    /// Month names, January first.
    pub fn month(&self, month: u32) -> &'static str {
        const EN_M: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const FR_M: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        const ES_M: [&str; 12] = [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ];
        let table = match self.lang {
            "fr" => &FR_M,
            "es" => &ES_M,
            _ => &EN_M,
        };
        let i = usize::try_from(month.saturating_sub(1)).unwrap_or(0);
        table.get(i).copied().unwrap_or("")
    }

    /// A calendar date written out: `11 March 2027`, `11 mars 2027`, `11 de marzo de 2027`;
    /// `2027-03` becomes `March 2027`. Anything else (`week of 2027-11-03`) is returned as is.
    pub fn date(&self, s: &str) -> String {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            use chrono::Datelike;
            let m = self.month(d.month());
            return match self.lang {
                "es" => format!("{} de {m} de {}", d.day(), d.year()),
                "fr" if d.day() == 1 => format!("1er {m} {}", d.year()),
                _ => format!("{} {m} {}", d.day(), d.year()),
            };
        }
        if let Some((y, m)) = s.split_once('-') {
            if y.len() == 4
                && m.len() == 2
                && y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
            {
                if let Ok(month) = m.parse::<u32>() {
                    if (1..=12).contains(&month) {
                        let name = self.month(month);
                        return match self.lang {
                            "es" => format!("{name} de {y}"),
                            _ => format!("{name} {y}"),
                        };
                    }
                }
            }
        }
        s.to_string()
    }

    /// An RFC 3339 instant as `11 March 2027, 23:59 UTC`; the string as is when it does not parse.
    pub fn instant(&self, s: &str) -> String {
        match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => {
                let t = t.with_timezone(&chrono::Utc);
                format!(
                    "{}, {} UTC",
                    self.date(&t.format("%Y-%m-%d").to_string()),
                    t.format("%H:%M")
                )
            }
            Err(_) => s.to_string(),
        }
    }

    /// The methodology, as paragraphs, with the document's parameters filled in.
    pub fn methodology_text(&self, m: &crate::model::Methodology) -> Vec<String> {
        let stemmed = if m.stemmed_languages.is_empty() {
            self.none.trim_end_matches('.').to_lowercase()
        } else {
            m.stemmed_languages.join(", ")
        };
        match self.lang {
            "fr" => vec![
                "Le document porte sur les messages publiés dans l'espace de discussion régional jusqu'à la date limite indiquée en couverture. Les messages en attente de modération, masqués ou supprimés ne sont ni cités ni comptés, sauf dans le décompte des exclusions. Aucun nom de personne n'apparaît ; une organisation n'est nommée que si son auteur l'a autorisé.".to_string(),
                "Chaque contribution est rattachée par son auteur (et, au besoin, par la modération) à un ou plusieurs des 23 objectifs du Pacte mondial et à des aspects : priorités, progrès, lacunes de mise en œuvre, bonnes pratiques, mécanismes de collaboration. Les objectifs sont classés selon le nombre de contributions, puis les soutiens.".to_string(),
                format!("Les {} objectifs les mieux classés sont analysés en détail : {} termes clés par section, choisis par TF-IDF par rapport à un corpus de référence de {} messages des autres régions (racinisation pour : {stemmed}), et jusqu'à {} citations représentatives, les plus soutenues d'abord.", m.prominent_objectives, m.key_terms, m.background_posts, m.quotes),
                format!("Les {} premières recommandations sont classées selon un consensus pondéré par groupe : la somme, sur les groupes de parties prenantes, de ln(1 + soutiens du groupe), le groupe de l'auteur comptant pour un. Les recommandations dont la similarité de Jaccard (fragments de mots) atteint {} sont fusionnées et leurs soutiens additionnés.", m.recommendations, fmt_ratio(m.near_duplicate_jaccard)),
                "Les nombres sont exacts à la date limite ; le document est reproductible : le même instantané produit le même document, dont l'empreinte figure en couverture.".to_string(),
            ],
            "es" => vec![
                "El documento abarca los mensajes publicados en el espacio de debate regional hasta la fecha de corte indicada en la portada. Los mensajes pendientes de moderación, ocultos o eliminados no se citan ni se cuentan, salvo en el recuento de exclusiones. No aparece ningún nombre de persona; una organización solo se nombra si su autor lo autorizó.".to_string(),
                "Cada contribución está vinculada por su autor (y, si es necesario, por la moderación) a uno o varios de los 23 objetivos del Pacto Mundial y a aspectos: prioridades, avances, brechas de implementación, buenas prácticas, mecanismos de colaboración. Los objetivos se ordenan por número de contribuciones y luego por apoyos.".to_string(),
                format!("Los {} objetivos mejor situados se analizan en detalle: {} términos clave por sección, elegidos por TF-IDF frente a un corpus de referencia de {} mensajes de las demás regiones (con lematización para: {stemmed}), y hasta {} citas representativas, primero las más apoyadas.", m.prominent_objectives, m.key_terms, m.background_posts, m.quotes),
                format!("Las {} primeras recomendaciones se ordenan según un consenso ponderado por grupo: la suma, sobre los grupos de partes interesadas, de ln(1 + apoyos del grupo), contando uno el grupo del autor. Las recomendaciones cuya similitud de Jaccard (fragmentos de palabras) alcanza {} se fusionan y sus apoyos se suman.", m.recommendations, fmt_ratio(m.near_duplicate_jaccard)),
                "Las cifras son exactas a la fecha de corte; el documento es reproducible: la misma instantánea produce el mismo documento, cuya huella figura en la portada.".to_string(),
            ],
            _ => vec![
                "The document covers the posts published in the regional discussion space up to the cutoff given on the cover. Posts awaiting moderation, hidden or removed are neither quoted nor counted, except in the count of exclusions. No personal name appears; an organisation is named only where its author allowed it.".to_string(),
                "Each contribution is linked by its author (and, where needed, by moderators) to one or more of the 23 objectives of the Global Compact and to aspects: priorities, progress, implementation gaps, good practices, collaboration mechanisms. Objectives are ranked by the number of contributions, then by endorsements.".to_string(),
                format!("The {} highest-ranked objectives are analysed in depth: {} key terms per section, chosen by TF-IDF against a background corpus of {} posts from the other regions (stemmed languages: {stemmed}), and up to {} representative quotes, most endorsed first.", m.prominent_objectives, m.key_terms, m.background_posts, m.quotes),
                format!("The top {} recommendations are ranked by group-informed consensus: the sum over stakeholder groups of ln(1 + endorsements from that group), the author's group counting one. Recommendations whose Jaccard similarity of word shingles reaches {} are merged and their endorsements added up.", m.recommendations, fmt_ratio(m.near_duplicate_jaccard)),
                "Figures are exact at the cutoff, and the document is reproducible: the same snapshot gives the same document, whose fingerprint is on the cover.".to_string(),
            ],
        }
    }
}

/// A ratio or score with at most 4 decimals and no trailing zeros (`0.6`, `2.0794`).
pub fn fmt_ratio(x: f64) -> String {
    if !x.is_finite() {
        return String::from("0");
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        String::from("0")
    } else {
        s.to_string()
    }
}

/// An integer with thin spaces between thousands (`12 345`): readable in every language,
/// and no locale decides it.
pub fn fmt_int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + 8);
    if n < 0 {
        out.push('−');
    }
    let len = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) && len > 4 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal (`12.5 %`); empty when the whole is zero.
pub fn fmt_share(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return String::new();
    }
    // Integer arithmetic keeps the rounding identical on every platform.
    let per_mille = (part.saturating_mul(2000) + whole) / (2 * whole);
    format!("{}.{}\u{a0}%", per_mille / 10, per_mille % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_are_formatted_plainly() {
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_int(1234), "1234");
        assert_eq!(fmt_int(12345), "12\u{202f}345");
        assert_eq!(fmt_int(-1234567), "−1\u{202f}234\u{202f}567");
        assert_eq!(fmt_share(1, 8), "12.5\u{a0}%");
        assert_eq!(fmt_share(2, 3), "66.7\u{a0}%");
        assert_eq!(fmt_share(1, 0), "");
        assert_eq!(fmt_ratio(0.6), "0.6");
        assert_eq!(fmt_ratio(2.07944), "2.0794");
        assert_eq!(fmt_ratio(3.0), "3");
        assert_eq!(EN.date("2027-03-11"), "11 March 2027");
        assert_eq!(FR.date("2027-03-01"), "1er mars 2027");
        assert_eq!(ES.date("2027-03-11"), "11 de marzo de 2027");
        assert_eq!(EN.date("2027-03"), "March 2027");
        assert_eq!(ES.date("2027-03"), "marzo de 2027");
        assert_eq!(EN.date("week of 2027-11-03"), "week of 2027-11-03");
        assert_eq!(
            EN.instant("2027-02-10T23:59:00Z"),
            "10 February 2027, 23:59 UTC"
        );
    }

    #[test]
    fn every_stakeholder_group_and_aspect_has_a_label_in_each_language() {
        for labels in [&EN, &FR, &ES] {
            for g in hub_domain::StakeholderGroup::ALL {
                assert_ne!(labels.group_label(g.as_str()), g.as_str(), "{g}");
            }
            for a in hub_domain::Aspect::ALL {
                assert_ne!(labels.aspect_label(a.as_str()), a.as_str(), "{a}");
            }
            for k in hub_domain::PostKind::ALL {
                assert_ne!(labels.kind_label(k.as_str()), k.as_str(), "{k}");
            }
        }
        assert_eq!(FR.group_label("something_new"), "something_new");
    }
}
