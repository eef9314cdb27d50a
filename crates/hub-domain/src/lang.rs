//! Languages: authors may declare the language of a post (a BCP 47 tag); when they don't, it
//! is detected from the text so that the analysis can count and quote by language.

/// Whether `tag` is a well-formed BCP 47 language tag of the common shape
/// `language[-script][-region][-variant]` (2-3 letter primary subtag, then 1-8 alphanumerics).
pub fn is_valid_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let Some(primary) = parts.next() else {
        return false;
    };
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    tag.len() <= 35
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Normalises a tag's case as BCP 47 recommends: `zh-Hant-TW`, `en-GB`, `ar`.
pub fn normalise_tag(tag: &str) -> String {
    tag.split('-')
        .enumerate()
        .map(|(i, p)| match (i, p.len()) {
            (0, _) => p.to_ascii_lowercase(),
            (_, 2) => p.to_ascii_uppercase(),
            (_, 4) => {
                let mut s = p.to_ascii_lowercase();
                if let Some(first) = s.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                s
            }
            _ => p.to_ascii_lowercase(),
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Detects the language of `text`, as a BCP 47 tag (ISO 639-1 where one exists). Returns
/// `None` when the text is too short or too mixed to tell with confidence. Text in Han script
/// is reported as `zh` (whatlang calls it Mandarin).
///
/// Only the first [`DETECT_CHARS`] characters are read (ending at a word's end): the guess does
/// not improve beyond a few sentences, and its cost grows with the length of the text.
pub fn detect(text: &str) -> Option<String> {
    let info = whatlang::detect(detection_sample(text))?;
    // Short texts give unreliable guesses between close languages; a script alone is still
    // decisive for Arabic and Chinese, which matter most here.
    let decisive_script = matches!(
        info.script(),
        whatlang::Script::Arabic | whatlang::Script::Mandarin | whatlang::Script::Hangul
    );
    if !info.is_reliable() && !decisive_script && info.confidence() < 0.5 {
        return None;
    }
    let code = info.lang().code();
    Some(iso639_1(code).unwrap_or(code).to_string())
}

/// How much of a text language detection reads.
pub const DETECT_CHARS: usize = 400;

/// The start of `text` that detection reads: at most [`DETECT_CHARS`] characters, cut after the
/// last whitespace within them (so no word is cut in two) when there is one.
fn detection_sample(text: &str) -> &str {
    let Some((cut, _)) = text.char_indices().nth(DETECT_CHARS) else {
        return text;
    };
    let head = &text[..cut];
    match head.rfind(char::is_whitespace) {
        Some(space) if space > 0 => &head[..space],
        _ => head,
    }
}

/// Maps whatlang's ISO 639-3 codes to ISO 639-1 where one exists (BCP 47 prefers the shorter).
fn iso639_1(code: &str) -> Option<&'static str> {
    Some(match code {
        "eng" => "en",
        "fra" => "fr",
        "spa" => "es",
        "ara" => "ar",
        "cmn" => "zh",
        "rus" => "ru",
        "por" => "pt",
        "deu" => "de",
        "ita" => "it",
        "nld" => "nl",
        "tur" => "tr",
        "pes" => "fa",
        "urd" => "ur",
        "hin" => "hi",
        "ben" => "bn",
        "jpn" => "ja",
        "kor" => "ko",
        "vie" => "vi",
        "tha" => "th",
        "ind" => "id",
        "swe" => "sv",
        "pol" => "pl",
        "ukr" => "uk",
        "ell" => "el",
        "heb" => "he",
        "amh" => "am",
        "tgl" => "tl",
        "hrv" => "hr",
        "srp" => "sr",
        "ron" => "ro",
        "hun" => "hu",
        "ces" => "cs",
        "dan" => "da",
        "fin" => "fi",
        "nob" => "nb",
        "aze" => "az",
        "uzb" => "uz",
        "kat" => "ka",
        "hye" => "hy",
        "nep" => "ne",
        "sin" => "si",
        "tam" => "ta",
        "khm" => "km",
        "mya" => "my",
        "zul" => "zu",
        "yor" => "yo",
        "ibo" => "ig",
        "sna" => "sn",
        "aka" => "ak",
        "bul" => "bg",
        "bel" => "be",
        "mkd" => "mk",
        "slk" => "sk",
        "slv" => "sl",
        "lit" => "lt",
        "lav" => "lv",
        "est" => "et",
        "cat" => "ca",
        "epo" => "eo",
        "lat" => "la",
        "afr" => "af",
        "jav" => "jv",
        "pan" => "pa",
        "guj" => "gu",
        "mar" => "mr",
        "tel" => "te",
        "kan" => "kn",
        "mal" => "ml",
        "ori" => "or",
        "yid" => "yi",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_validated_and_normalised() {
        for ok in ["en", "ar", "zh-Hant-TW", "es-419", "fil"] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "e",
            "english",
            "en_GB",
            "en-",
            "<b>",
            "zh-Hant-TW-toolongsubtag",
        ] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
        assert_eq!(normalise_tag("ZH-hant-tw"), "zh-Hant-TW");
    }

    #[test]
    fn detection_reads_the_start_of_a_long_text_up_to_a_word_end() {
        let long = "Migrant workers need access to basic services and decent work. ".repeat(40);
        let sample = detection_sample(&long);
        assert!(sample.chars().count() <= DETECT_CHARS);
        assert!(sample.chars().count() > DETECT_CHARS - 20);
        assert!(long[sample.len()..].starts_with(char::is_whitespace));
        assert_eq!(detect(&long).as_deref(), Some("en"));
        // Chinese has no spaces: cut at the character limit, still on a character boundary.
        let zh = "移民工人需要获得基本服务和体面工作。".repeat(40);
        assert_eq!(detection_sample(&zh).chars().count(), DETECT_CHARS);
        assert_eq!(detect(&zh).as_deref(), Some("zh"));
        let short = "Bonjour à tous";
        assert_eq!(detection_sample(short), short);
    }

    #[test]
    fn un_languages_are_detected() {
        let cases = [
            ("Migrant workers need access to health services and decent housing in the cities where they work.", "en"),
            ("Les travailleurs migrants doivent avoir accès aux services de santé et à un logement décent.", "fr"),
            ("Los trabajadores migrantes necesitan acceso a servicios de salud y a una vivienda digna.", "es"),
            ("يحتاج العمال المهاجرون إلى الحصول على الخدمات الصحية والسكن اللائق في المدن التي يعملون فيها", "ar"),
            ("移民工人需要获得医疗服务和体面的住房", "zh"),
            ("Трудящиеся-мигранты нуждаются в доступе к медицинским услугам и достойному жилью.", "ru"),
        ];
        for (text, lang) in cases {
            assert_eq!(detect(text).as_deref(), Some(lang), "{text}");
        }
    }
}
