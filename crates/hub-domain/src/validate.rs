//! Validation at the edge. Every check returns the field it concerns and a message a person
//! can act on, so the API can answer one 422 listing everything wrong with a request.

use crate::{lang, objectives, Aspect};
use serde::Serialize;
use utoipa::ToSchema;

/// The longest post body, in characters (not bytes: Arabic and Chinese are not penalised).
pub const BODY_MAX_CHARS: usize = 20_000;
/// The longest thread title, in characters.
pub const TITLE_MAX_CHARS: usize = 200;
/// The shortest thread title, in characters.
pub const TITLE_MIN_CHARS: usize = 3;
/// How many objectives one post may tag.
pub const OBJECTIVES_MAX: usize = 10;
/// The shortest password (argon2id-hashed).
pub const PASSWORD_MIN_CHARS: usize = 12;
/// The longest password; argon2 costs grow with input and nobody types more.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// The deepest reply; deep enough for any discussion, shallow enough to render.
pub const DEPTH_MAX: i64 = 100;
/// The longest display name, organisation or reason.
pub const NAME_MAX_CHARS: usize = 120;
/// The longest moderation reason or note.
pub const REASON_MAX_CHARS: usize = 2_000;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a JSON path (`objectives[2]`).
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Collects field errors so a request is checked whole before it is refused.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    /// A checker with no errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value of a check, or records its error and returns `None`.
    pub fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Records an error.
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    /// The errors, or `Ok(())` when there are none.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Characters that have no place in text a person typed: controls other than newline and tab,
/// and the bidirectional overrides used to disguise text (Trojan Source).
fn has_forbidden_chars(s: &str) -> bool {
    s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t' && c != '\r')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

fn text(
    field: &str,
    s: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, FieldError> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min {
        return Err(FieldError::new(
            field,
            if min <= 1 {
                "must not be empty".to_string()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if n > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters (got {n})"),
        ));
    }
    if has_forbidden_chars(t) || (!multiline && t.contains(['\n', '\r'])) {
        return Err(FieldError::new(
            field,
            "contains control or direction-override characters",
        ));
    }
    Ok(t.to_string())
}

/// A thread title: 3 to 200 characters on one line.
pub fn title(s: &str) -> Result<String, FieldError> {
    text("title", s, TITLE_MIN_CHARS, TITLE_MAX_CHARS, false)
}

/// A post body (Markdown): 1 to 20,000 characters.
pub fn body(s: &str) -> Result<String, FieldError> {
    text("body", s, 1, BODY_MAX_CHARS, true)
}

/// A display name: 1 to 120 characters on one line.
pub fn display_name(s: &str) -> Result<String, FieldError> {
    text("display_name", s, 1, NAME_MAX_CHARS, false)
}

/// An organisation name, when given: 1 to 120 characters; blank means none.
pub fn organisation(s: Option<&str>) -> Result<Option<String>, FieldError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(o) => text("organisation", o, 1, NAME_MAX_CHARS, false).map(Some),
    }
}

/// A moderation reason or a note: 1 to 2,000 characters.
pub fn reason(field: &str, s: &str) -> Result<String, FieldError> {
    text(field, s, 1, REASON_MAX_CHARS, true)
}

/// An e-mail address, lower-cased. Deliberately permissive (one `@`, a dot in the domain, no
/// spaces): the only real check of an address is a message that arrives.
pub fn email(s: &str) -> Result<String, FieldError> {
    let e = s.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.')
               && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok {
        Ok(e)
    } else {
        Err(FieldError::new("email", "is not an e-mail address"))
    }
}

/// A password: 12 to 256 characters.
pub fn password(s: &str) -> Result<(), FieldError> {
    let n = s.chars().count();
    if n < PASSWORD_MIN_CHARS {
        Err(FieldError::new(
            "password",
            format!("must be at least {PASSWORD_MIN_CHARS} characters"),
        ))
    } else if n > PASSWORD_MAX_CHARS {
        Err(FieldError::new(
            "password",
            format!("must be at most {PASSWORD_MAX_CHARS} characters"),
        ))
    } else {
        Ok(())
    }
}

/// The objectives a post tags: each 1 to 23, at most ten; duplicates are merged and the result
/// sorted so that equal sets compare equal.
pub fn objective_ids(ids: &[i64]) -> Result<Vec<i64>, FieldError> {
    for (i, id) in ids.iter().enumerate() {
        if objectives::objective(*id).is_none() {
            return Err(FieldError::new(
                format!("objectives[{i}]"),
                format!("{id} is not a GCM objective (1 to 23)"),
            ));
        }
    }
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    if v.len() > OBJECTIVES_MAX {
        return Err(FieldError::new(
            "objectives",
            format!("at most {OBJECTIVES_MAX} objectives"),
        ));
    }
    Ok(v)
}

/// Aspects, deduplicated and sorted.
pub fn aspects(a: &[Aspect]) -> Vec<Aspect> {
    let mut v = a.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// A declared language tag, normalised.
pub fn language(s: &str) -> Result<String, FieldError> {
    if lang::is_valid_tag(s.trim()) {
        Ok(lang::normalise_tag(s.trim()))
    } else {
        Err(FieldError::new(
            "language",
            "is not a BCP 47 language tag (en, fr, es, ar, zh, ...)",
        ))
    }
}

/// The ISO 3166-1 alpha-2 codes in use (249), space-separated.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// A country as an ISO 3166-1 alpha-2 code, upper-cased.
pub fn country(s: &str) -> Result<String, FieldError> {
    let c = s.trim().to_ascii_uppercase();
    if c.len() == 2 && COUNTRIES.split(' ').any(|k| k == c) {
        Ok(c)
    } else {
        Err(FieldError::new(
            "country",
            "is not an ISO 3166-1 alpha-2 country code",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_list_is_complete_and_checked() {
        assert_eq!(COUNTRIES.split(' ').count(), 249);
        assert_eq!(country("ke").ok().as_deref(), Some("KE"));
        assert!(country("XX").is_err());
        assert!(country("KEN").is_err());
    }

    #[test]
    fn objectives_must_be_gcm_objectives() {
        assert_eq!(objective_ids(&[5, 1, 5]).ok(), Some(vec![1, 5]));
        assert_eq!(
            objective_ids(&[0]).map_err(|e| e.field),
            Err("objectives[0]".to_string())
        );
        assert!(objective_ids(&[24]).is_err());
        assert!(objective_ids(&(1..=11).collect::<Vec<_>>()).is_err());
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        let arabic = "م".repeat(BODY_MAX_CHARS);
        assert!(body(&arabic).is_ok());
        assert!(body(&format!("{arabic}م")).is_err());
        assert!(body("   ").is_err());
        assert!(title("ab").is_err());
        assert!(title("line\nbreak").is_err());
        assert!(title("evil \u{202E}txt.exe").is_err());
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(
            email(" Ana@Example.ORG ").ok().as_deref(),
            Some("ana@example.org")
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.org",
            "a b@x.org",
            "a@b@c.org",
            "a@localhost",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(password("short").is_err());
        assert!(password("correct horse battery").is_ok());
    }
}
