//! The 23 objectives of the Global Compact for Migration (A/RES/73/195 para 16), with the short
//! titles the UN Network on Migration's Hub uses in English, French and Spanish, and the four
//! IMRF round-table clusters (A/RES/73/326 para 7) the analysis groups them by.

/// One GCM objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objective {
    /// 1 to 23.
    pub id: u8,
    /// The full English title from the resolution.
    pub title_en: &'static str,
    /// Short titles, by language.
    pub short_en: &'static str,
    /// Short title in French.
    pub short_fr: &'static str,
    /// Short title in Spanish.
    pub short_es: &'static str,
    /// The IMRF round-table cluster (1 to 4).
    pub cluster: u8,
}

/// Languages the objective titles exist in.
pub const TITLE_LANGUAGES: [&str; 3] = ["en", "fr", "es"];

macro_rules! objectives {
    ($(($id:literal, $cluster:literal, $full:literal, $en:literal, $fr:literal, $es:literal)),+ $(,)?) => {
        /// All 23 objectives, in order.
        pub const OBJECTIVES: [Objective; 23] = [
            $(Objective { id: $id, title_en: $full, short_en: $en, short_fr: $fr, short_es: $es, cluster: $cluster }),+
        ];
    };
}

objectives! {
    (1, 4, "Collect and utilize accurate and disaggregated data as a basis for evidence-based policies", "Data", "Données", "Datos"),
    (2, 1, "Minimize the adverse drivers and structural factors that compel people to leave their country of origin", "Minimize adverse drivers", "Lutter contre les facteurs négatifs", "Minimizar factores adversos"),
    (3, 4, "Provide accurate and timely information at all stages of migration", "Information provision", "Fourniture d'informations", "Proporcionar información"),
    (4, 2, "Ensure that all migrants have proof of legal identity and adequate documentation", "Legal identity and documentation", "Identité légale et papiers", "Identidad jurídica y documentación"),
    (5, 1, "Enhance availability and flexibility of pathways for regular migration", "Regular pathways", "Filières de migration régulière", "Vías de migración regular"),
    (6, 1, "Facilitate fair and ethical recruitment and safeguard conditions that ensure decent work", "Recruitment and decent work", "Recrutement et travail décent", "Contratación y trabajo decente"),
    (7, 4, "Address and reduce vulnerabilities in migration", "Reduce vulnerabilities", "Réduire la vulnérabilité", "Reducir vulnerabilidades"),
    (8, 2, "Save lives and establish coordinated international efforts on missing migrants", "Save lives", "Sauver des vies", "Salvar vidas"),
    (9, 2, "Strengthen the transnational response to smuggling of migrants", "Counter smuggling", "Combattre le trafic de migrants", "Combatir el tráfico de migrantes"),
    (10, 2, "Prevent, combat and eradicate trafficking in persons in the context of international migration", "Eradicate trafficking", "Éradiquer la traite de personnes", "Erradicar la trata de personas"),
    (11, 2, "Manage borders in an integrated, secure and coordinated manner", "Manage borders", "Gérer les frontières", "Gestión de fronteras"),
    (12, 1, "Strengthen certainty and predictability in migration procedures for appropriate screening, assessment and referral", "Screening and referral", "Contrôle, évaluation et orientation", "Verificación de antecedentes y derivación"),
    (13, 2, "Use migration detention only as a measure of last resort and work towards alternatives", "Alternatives to detention", "Alternatives à la rétention", "Alternativas a la detención"),
    (14, 3, "Enhance consular protection, assistance and cooperation throughout the migration cycle", "Consular protection", "Protection consulaire", "Protección consular"),
    (15, 3, "Provide access to basic services for migrants", "Access to basic services", "Accès aux services de base", "Acceso a los servicios básicos"),
    (16, 3, "Empower migrants and societies to realize full inclusion and social cohesion", "Inclusion and social cohesion", "Intégration et cohésion sociale", "Inclusión y cohesión social"),
    (17, 4, "Eliminate all forms of discrimination and promote evidence-based public discourse to shape perceptions of migration", "Eliminate discrimination", "Éliminer les discriminations", "Eliminar la discriminación"),
    (18, 1, "Invest in skills development and facilitate mutual recognition of skills, qualifications and competences", "Skills development and recognition", "Perfectionnement et reconnaissance des qualifications", "Desarrollo y reconocimiento de competencias"),
    (19, 3, "Create conditions for migrants and diasporas to fully contribute to sustainable development in all countries", "Migrant and diaspora contributions", "Contributions des migrants et diaspora", "Contribución de migrantes y diásporas"),
    (20, 3, "Promote faster, safer and cheaper transfer of remittances and foster financial inclusion of migrants", "Remittances", "Envois de fonds", "Remesas"),
    (21, 2, "Cooperate in facilitating safe and dignified return and readmission, as well as sustainable reintegration", "Dignified return and reintegration", "Retour digne et réintégration durable", "Retorno y reintegración dignos"),
    (22, 3, "Establish mechanisms for the portability of social security entitlements and earned benefits", "Social protection", "Protection sociale", "Protección social"),
    (23, 4, "Strengthen international cooperation and global partnerships for safe, orderly and regular migration", "International cooperation", "Coopération internationale", "Cooperación internacional"),
}

impl Objective {
    /// The short title in `lang` (`en`, `fr`, `es`), English for any other language.
    pub fn short_title(&self, lang: &str) -> &'static str {
        match lang {
            "fr" => self.short_fr,
            "es" => self.short_es,
            _ => self.short_en,
        }
    }
}

/// The objective with this number, if it is one of the 23.
pub fn objective(id: i64) -> Option<&'static Objective> {
    usize::try_from(id)
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| OBJECTIVES.get(i))
}

/// Picks the best of `en`, `fr`, `es` from an `Accept-Language` header value, honouring
/// q-values; English when nothing matches.
pub fn negotiate_language(accept_language: Option<&str>) -> &'static str {
    let Some(header) = accept_language else {
        return "en";
    };
    let mut best: Option<(&'static str, f32)> = None;
    for part in header.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        if let Some(lang) = TITLE_LANGUAGES.iter().find(|l| **l == primary) {
            if q > 0.0 && best.is_none_or(|(_, bq)| q > bq) {
                best = Some((lang, q));
            }
        }
    }
    best.map_or("en", |(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_23_objectives_in_four_clusters() {
        for (i, o) in OBJECTIVES.iter().enumerate() {
            assert_eq!(usize::from(o.id), i + 1);
            assert!((1..=4).contains(&o.cluster));
        }
        let cluster2: Vec<u8> = OBJECTIVES
            .iter()
            .filter(|o| o.cluster == 2)
            .map(|o| o.id)
            .collect();
        assert_eq!(cluster2, vec![4, 8, 9, 10, 11, 13, 21]);
        assert!(objective(0).is_none());
        assert!(objective(24).is_none());
        assert_eq!(
            objective(23).map(|o| o.short_fr),
            Some("Coopération internationale")
        );
    }

    #[test]
    fn accept_language_is_negotiated_with_q_values() {
        assert_eq!(negotiate_language(None), "en");
        assert_eq!(negotiate_language(Some("fr-CH, fr;q=0.9, en;q=0.8")), "fr");
        assert_eq!(negotiate_language(Some("de, es;q=0.5, fr;q=0.4")), "es");
        assert_eq!(negotiate_language(Some("zh-CN")), "en");
        assert_eq!(negotiate_language(Some("es;q=0, fr;q=0.1")), "fr");
    }
}
