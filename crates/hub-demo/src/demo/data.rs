//! The data the demo corpus is drawn from: regions, countries and cities
//! (`data/regions.toml`), names (`data/names.toml`) and each language's phrases
//! (`data/lang/*.toml`). The files are embedded in the binary, parsed once, and checked as a
//! whole before the generator uses them, so that the generator can index them freely.

use anyhow::{bail, Context, Result};
use hub_domain::StakeholderGroup;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The languages with phrases, in the order the generator has always known them; the first
/// (English) stands in for a language without phrases of its own.
const LANGUAGE_FILES: [(&str, &str); 7] = [
    ("en", include_str!("../../data/lang/en.toml")),
    ("fr", include_str!("../../data/lang/fr.toml")),
    ("es", include_str!("../../data/lang/es.toml")),
    ("ar", include_str!("../../data/lang/ar.toml")),
    ("zh", include_str!("../../data/lang/zh.toml")),
    ("ru", include_str!("../../data/lang/ru.toml")),
    ("pt", include_str!("../../data/lang/pt.toml")),
];
const REGIONS_FILE: &str = include_str!("../../data/regions.toml");
const NAMES_FILE: &str = include_str!("../../data/names.toml");

/// The names of speakers of these languages are written in their own script wherever they
/// live (Chinese Malaysians, say): the table of `names.toml` they are drawn from.
const SCRIPT_NAMES: [(&str, &str); 2] = [("ar", "arab"), ("zh", "chinese")];

static CORPUS: LazyLock<std::result::Result<Corpus, String>> =
    LazyLock::new(|| Corpus::parse().map_err(|e| format!("{e:#}")));

/// The parsed and checked data files.
pub(crate) fn corpus() -> Result<&'static Corpus> {
    CORPUS
        .as_ref()
        .map_err(|e| anyhow::anyhow!("the demo corpus's data files are invalid: {e}"))
}

/// Everything the generator draws from.
pub(crate) struct Corpus {
    /// The stakeholder groups of the accounts, in draw order.
    pub(crate) groups: Vec<GroupWeight>,
    pub(crate) regions: Vec<RegionSpec>,
    /// Naming cultures; countries refer to them by position.
    banks: Vec<NameBank>,
    /// Phrases per language, in the order of [`LANGUAGE_FILES`].
    pub(crate) texts: Vec<LangText>,
    /// For each entry of [`SCRIPT_NAMES`], the position of its bank.
    script_banks: Vec<(&'static str, usize)>,
}

impl Corpus {
    fn parse() -> Result<Corpus> {
        let mut regions: RegionsFile = toml::from_str(REGIONS_FILE).context("data/regions.toml")?;
        let named: BTreeMap<String, NameBank> =
            toml::from_str(NAMES_FILE).context("data/names.toml")?;
        let mut texts = Vec::with_capacity(LANGUAGE_FILES.len());
        for (tag, file) in LANGUAGE_FILES {
            let mut t: LangText =
                toml::from_str(file).with_context(|| format!("data/lang/{tag}.toml"))?;
            if t.topics.is_empty() {
                bail!("data/lang/{tag}.toml: no topics");
            }
            t.tag = tag;
            texts.push(t);
        }
        let keys: Vec<&String> = named.keys().collect();
        let position = |key: &str| keys.iter().position(|k| k.as_str() == key);
        for (key, bank) in &named {
            if bank.given.is_empty() || bank.family.is_empty() {
                bail!("data/names.toml: [{key}] needs given and family names");
            }
        }
        let mut script_banks = Vec::with_capacity(SCRIPT_NAMES.len());
        for (language, key) in SCRIPT_NAMES {
            match position(key) {
                Some(i) => script_banks.push((language, i)),
                None => bail!("data/names.toml: no [{key}] table"),
            }
        }
        if regions.regions.is_empty() || regions.groups.is_empty() {
            bail!("data/regions.toml: no regions or no groups");
        }
        for r in &mut regions.regions {
            if r.languages.is_empty() || r.countries.is_empty() {
                bail!(
                    "data/regions.toml: {} needs languages and countries",
                    r.slug
                );
            }
            for c in &mut r.countries {
                if c.cities.is_empty() {
                    bail!("data/regions.toml: {} has no cities", c.code);
                }
                c.bank = position(&c.names).with_context(|| {
                    format!(
                        "data/regions.toml: {}: no [{}] in names.toml",
                        c.code, c.names
                    )
                })?;
            }
        }
        Ok(Corpus {
            groups: regions.groups,
            regions: regions.regions,
            banks: named.into_values().collect(),
            texts,
            script_banks,
        })
    }

    /// The phrases of a language (English's for a language without its own).
    pub(crate) fn texts(&self, language: &str) -> &LangText {
        self.texts
            .iter()
            .find(|t| t.tag == language)
            .unwrap_or(&self.texts[0])
    }

    /// The names a speaker of `language` from `country` is given.
    pub(crate) fn names(&self, country: &CountrySpec, language: &str) -> &NameBank {
        let bank = self
            .script_banks
            .iter()
            .find(|(l, _)| *l == language)
            .map_or(country.bank, |(_, i)| *i);
        &self.banks[bank]
    }
}

/// What a thread is about; each topic is tied to GCM objectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Topic {
    DecentWork,
    Remittances,
    Detention,
    MissingMigrants,
    Climate,
    Skills,
    Consular,
    Data,
}

impl Topic {
    pub(crate) const ALL: [Topic; 8] = [
        Topic::DecentWork,
        Topic::Remittances,
        Topic::Detention,
        Topic::MissingMigrants,
        Topic::Climate,
        Topic::Skills,
        Topic::Consular,
        Topic::Data,
    ];

    /// The objective the topic is about.
    pub(crate) fn core(self) -> i64 {
        match self {
            Topic::DecentWork => 6,
            Topic::Remittances => 20,
            Topic::Detention => 13,
            Topic::MissingMigrants => 8,
            Topic::Climate => 2,
            Topic::Skills => 18,
            Topic::Consular => 14,
            Topic::Data => 1,
        }
    }

    /// Objectives posts on the topic often touch as well.
    pub(crate) fn related(self) -> &'static [i64] {
        match self {
            Topic::DecentWork => &[10, 22],
            Topic::Remittances => &[19, 15],
            Topic::Detention => &[7, 12],
            Topic::MissingMigrants => &[23, 9],
            Topic::Climate => &[5, 23],
            Topic::Skills => &[5, 6],
            Topic::Consular => &[4, 21],
            Topic::Data => &[17, 3],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    groups: Vec<GroupWeight>,
    regions: Vec<RegionSpec>,
}

/// A stakeholder group of the demo accounts and how common it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupWeight {
    pub(crate) group: StakeholderGroup,
    pub(crate) weight: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionSpec {
    pub(crate) slug: String,
    /// Languages written in the space, with their weights.
    pub(crate) languages: Vec<LanguageWeight>,
    pub(crate) countries: Vec<CountrySpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LanguageWeight {
    pub(crate) tag: String,
    pub(crate) weight: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountrySpec {
    /// ISO 3166-1 alpha-2.
    pub(crate) code: String,
    /// Languages its participants write in (within the region's).
    pub(crate) languages: Vec<String>,
    /// The table of `names.toml` its participants' names come from when they write in a
    /// Latin-script language.
    names: String,
    /// `names`' position among the banks, set once they are read.
    #[serde(skip)]
    bank: usize,
    pub(crate) cities: Vec<City>,
}

#[derive(Deserialize)]
#[serde(from = "CityEntry")]
pub(crate) struct City {
    name: String,
    /// The name in other languages, where it differs.
    local: BTreeMap<String, String>,
}

impl City {
    pub(crate) fn name_in(&self, language: &str) -> &str {
        self.local.get(language).unwrap_or(&self.name)
    }
}

/// A city as written in the file: its name, or a table with its names in other languages.
#[derive(Deserialize)]
#[serde(untagged)]
enum CityEntry {
    Name(String),
    Local(LocalCity),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalCity {
    name: String,
    local: BTreeMap<String, String>,
}

impl From<CityEntry> for City {
    fn from(e: CityEntry) -> City {
        match e {
            CityEntry::Name(name) => City {
                name,
                local: BTreeMap::new(),
            },
            CityEntry::Local(LocalCity { name, local }) => City { name, local },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NameBank {
    pub(crate) given: Vec<Name>,
    pub(crate) family: Vec<Name>,
    /// Family name first (Chinese).
    #[serde(default)]
    pub(crate) family_first: bool,
    /// Family names take a feminine ending (Russian `-ov` / `-ova`).
    #[serde(default)]
    pub(crate) gendered_family: bool,
}

#[derive(Deserialize)]
#[serde(from = "NameEntry")]
pub(crate) struct Name {
    pub(crate) latin: String,
    /// The name in its own script; empty when it is the Latin one.
    native: String,
    pub(crate) female: bool,
}

impl Name {
    pub(crate) fn native(&self) -> &str {
        if self.native.is_empty() {
            &self.latin
        } else {
            &self.native
        }
    }

    pub(crate) fn has_native(&self) -> bool {
        !self.native.is_empty()
    }
}

/// A name as written in the file: the Latin spelling, or a table.
#[derive(Deserialize)]
#[serde(untagged)]
enum NameEntry {
    Latin(String),
    Full(FullName),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullName {
    latin: String,
    #[serde(default)]
    native: String,
    #[serde(default)]
    female: bool,
}

impl From<NameEntry> for Name {
    fn from(e: NameEntry) -> Name {
        match e {
            NameEntry::Latin(latin) => Name {
                latin,
                native: String::new(),
                female: false,
            },
            NameEntry::Full(FullName {
                latin,
                native,
                female,
            }) => Name {
                latin,
                native,
                female,
            },
        }
    }
}

/// Phrases of one language, for every topic it covers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LangText {
    /// The file's language, set once it is read.
    #[serde(skip)]
    pub(crate) tag: &'static str,
    /// Between sentences: a space, or nothing in Chinese.
    pub(crate) sep: String,
    pub(crate) recommendations: String,
    pub(crate) findings: String,
    pub(crate) openers: [String; 4],
    pub(crate) closers: [String; 3],
    pub(crate) questions: [String; 2],
    pub(crate) report_intros: [String; 2],
    /// Invented organisation names by group (`{city}` is the persona's city); none for
    /// individuals (parliamentarians, others).
    #[serde(default)]
    organisations: BTreeMap<StakeholderGroup, Vec<String>>,
    pub(crate) topics: Vec<TopicText>,
}

impl LangText {
    pub(crate) fn topic(&self, t: Topic) -> Option<&TopicText> {
        self.topics.iter().find(|x| x.topic == t)
    }

    /// Organisation names of a group; empty for a group of individuals.
    pub(crate) fn organisations(&self, group: StakeholderGroup) -> &[String] {
        self.organisations.get(&group).map_or(&[], Vec::as_slice)
    }
}

/// Phrases about one topic in one language. `{city}`, `{n}`, `{pct}`, `{days}` and `{year}`
/// are filled in; the sentences are complete so that any combination reads well.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TopicText {
    pub(crate) topic: Topic,
    pub(crate) titles: [String; 2],
    /// First sentence of an opening post: the situation.
    pub(crate) openings: [String; 2],
    /// Evidence or practice.
    pub(crate) details: [String; 2],
    /// Recommendations (imperative, one sentence each).
    pub(crate) asks: [String; 2],
    /// Sentences a reply builds on.
    pub(crate) replies: [String; 2],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_files_parse_and_hold_together() {
        let c = corpus().expect("data files");
        assert_eq!(c.regions.len(), 5);
        assert_eq!(c.texts.len(), LANGUAGE_FILES.len());
        for r in &c.regions {
            assert!(
                hub_domain::REGION_SLUGS.contains(&r.slug.as_str()),
                "{}",
                r.slug
            );
        }
        let en = c.texts("en");
        assert_eq!(en.openers[0], "Thank you for raising this.");
        assert!(en
            .organisations(StakeholderGroup::Parliamentarian)
            .is_empty());
        assert_eq!(c.texts("xx").tag, "en");
        let zh = c.texts("zh");
        assert_eq!(zh.sep, "");
        assert_eq!(
            zh.organisations(StakeholderGroup::Philanthropy),
            ["远景流动基金会"]
        );
        let eg = c
            .regions
            .iter()
            .flat_map(|r| &r.countries)
            .find(|x| x.code == "EG");
        let cairo = &eg.expect("EG").cities[0];
        assert_eq!(
            (
                cairo.name_in("ar"),
                cairo.name_in("fr"),
                cairo.name_in("en")
            ),
            ("القاهرة", "Le Caire", "Cairo")
        );
    }
}
