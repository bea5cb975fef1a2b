//! Checking one answer against its question, and the words for what is
//! wrong with it.
//!
//! Answers arrive as JSON, from the app's inputs or from an answers file:
//! text for most questions, `true`/`false` for yes/no, lists for multiple
//! choice and files. [`normalize`] turns an acceptable answer into the one
//! form the engine stores (an amount as `"1250.00"`, an identifier formatted
//! to its mask), or says what is wrong in terms [`message`] can put to the
//! person in the interview's language. [`to_cel`] gives a stored answer to
//! expressions.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use crate::model::{Field, FieldKind, Interview};

/// What is wrong with an answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Wrong {
    Required,
    NotText,
    NotWholeNumber,
    NotMoney,
    NotDate,
    NotYesNo,
    NotChoice,
    NotEmail,
    NotPhone,
    NotMasked,
    TooShort(u32),
    TooLong(u32),
    TooSmall(f64),
    TooLarge(f64),
    Pattern,
    TooManyFiles(u32),
    FileType,
    FileTooBig(u64),
    NotFile,
    TooFew(u32),
    TooMany(u32),
}

impl Wrong {
    /// Whether the definition's own `message` replaces the built-in one:
    /// it does for the rules the author wrote, not for a missing answer or
    /// one of the wrong kind.
    fn is_rule(&self) -> bool {
        matches!(
            self,
            Self::TooShort(_)
                | Self::TooLong(_)
                | Self::TooSmall(_)
                | Self::TooLarge(_)
                | Self::Pattern
        )
    }
}

/// Turns an answer into its stored form; `None` if it is empty (no answer).
pub(crate) fn normalize(field: &Field, input: &Json) -> Result<Option<Json>, Wrong> {
    if is_empty(input) {
        return Ok(None);
    }
    let stored = match field.kind {
        FieldKind::Text | FieldKind::LongText => Json::String(text(input)?),
        FieldKind::Email => Json::String(email(&text(input)?)?),
        FieldKind::Phone => Json::String(phone(&text(input)?)?),
        FieldKind::Date => Json::String(date(&text(input)?)?),
        FieldKind::Masked => {
            Json::String(masked(field.mask.as_deref().unwrap_or(""), &text(input)?)?)
        }
        FieldKind::Number => Json::from(whole_number(input)?),
        FieldKind::Money => Json::String(money(input)?),
        FieldKind::YesNo => Json::Bool(yes_no(input)?),
        FieldKind::SingleChoice => {
            let chosen = text(input)?;
            if !field.choices.iter().any(|c| c.value == chosen) {
                return Err(Wrong::NotChoice);
            }
            Json::String(chosen)
        }
        FieldKind::MultipleChoice => {
            let Json::Array(items) = input else {
                return Err(Wrong::NotChoice);
            };
            let mut chosen = Vec::new();
            for item in items {
                let value = item.as_str().ok_or(Wrong::NotChoice)?;
                if !field.choices.iter().any(|c| c.value == value) {
                    return Err(Wrong::NotChoice);
                }
                chosen.push(value);
            }
            // Stored in the definition's order, each once.
            Json::Array(
                field
                    .choices
                    .iter()
                    .filter(|c| chosen.contains(&c.value.as_str()))
                    .map(|c| Json::String(c.value.clone()))
                    .collect(),
            )
        }
        FieldKind::File => Json::Array(files(field, input)?),
        // Notes hold nothing; groups are changed instance by instance.
        FieldKind::Note | FieldKind::Repeat => return Err(Wrong::NotText),
    };
    check_rules(field, &stored)?;
    Ok(Some(stored))
}

/// Checks the author's rules on an answer already in its stored form.
fn check_rules(field: &Field, stored: &Json) -> Result<(), Wrong> {
    let rules = &field.rules;
    if let Some(text) = stored.as_str().filter(|_| field.kind != FieldKind::Money) {
        let length = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
        if let Some(min) = rules.min_length.filter(|&min| length < min) {
            return Err(Wrong::TooShort(min));
        }
        if let Some(max) = rules.max_length.filter(|&max| length > max) {
            return Err(Wrong::TooLong(max));
        }
        if let Some(pattern) = &rules.pattern {
            let whole = pattern
                .find(text)
                .is_some_and(|m| m.start() == 0 && m.end() == text.len());
            if !whole {
                return Err(Wrong::Pattern);
            }
        }
    }
    let number = match field.kind {
        FieldKind::Number => stored.as_i64().map(|n| n as f64),
        FieldKind::Money => stored.as_str().and_then(|s| s.parse::<f64>().ok()),
        _ => None,
    };
    if let Some(number) = number {
        if let Some(min) = rules.min.filter(|&min| number < min) {
            return Err(Wrong::TooSmall(min));
        }
        if let Some(max) = rules.max.filter(|&max| number > max) {
            return Err(Wrong::TooLarge(max));
        }
    }
    Ok(())
}

fn is_empty(input: &Json) -> bool {
    match input {
        Json::Null => true,
        Json::String(s) => s.trim().is_empty(),
        Json::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn text(input: &Json) -> Result<String, Wrong> {
    match input {
        Json::String(s) => Ok(s.trim().to_owned()),
        Json::Number(n) => Ok(n.to_string()),
        _ => Err(Wrong::NotText),
    }
}

fn whole_number(input: &Json) -> Result<i64, Wrong> {
    match input {
        Json::Number(n) => n.as_i64().ok_or(Wrong::NotWholeNumber),
        Json::String(s) => {
            let digits: String = s
                .trim()
                .chars()
                .filter(|c| *c != ',' && *c != ' ')
                .collect();
            digits.parse::<i64>().map_err(|_| Wrong::NotWholeNumber)
        }
        _ => Err(Wrong::NotWholeNumber),
    }
}

/// An amount with at most two decimals, as `"1250.00"`.
fn money(input: &Json) -> Result<String, Wrong> {
    let written = match input {
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.trim().to_owned(),
        _ => return Err(Wrong::NotMoney),
    };
    let cleaned: String = written
        .chars()
        .filter(|c| !matches!(c, '$' | ',' | ' '))
        .collect();
    let (negative, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    let (whole, cents) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !whole.is_empty()
        && whole.len() <= 12
        && whole.bytes().all(|b| b.is_ascii_digit())
        && cents.len() <= 2
        && cents.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(Wrong::NotMoney);
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let sign = if negative && (whole != "0" || cents.bytes().any(|b| b != b'0')) {
        "-"
    } else {
        ""
    };
    Ok(format!("{sign}{whole}.{cents:0<2}"))
}

/// A real calendar date written `YYYY-MM-DD`.
fn date(text: &str) -> Result<String, Wrong> {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(Wrong::NotDate);
    };
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return Err(Wrong::NotDate);
    }
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<u32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return Err(Wrong::NotDate);
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(Wrong::NotDate),
    };
    if year < 1850 || day == 0 || day > days {
        return Err(Wrong::NotDate);
    }
    Ok(format!("{year:04}-{month:02}-{day:02}"))
}

fn yes_no(input: &Json) -> Result<bool, Wrong> {
    match input {
        Json::Bool(b) => Ok(*b),
        Json::String(s) => match s.trim().to_lowercase().as_str() {
            "yes" | "true" | "sí" | "si" => Ok(true),
            "no" | "false" => Ok(false),
            _ => Err(Wrong::NotYesNo),
        },
        _ => Err(Wrong::NotYesNo),
    }
}

/// An address with one `@`, something before it, and a dotted domain.
fn email(text: &str) -> Result<String, Wrong> {
    let (local, domain) = text.split_once('@').ok_or(Wrong::NotEmail)?;
    let ok = !local.is_empty()
        && text.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace);
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Wrong::NotEmail)
    }
}

fn phone(text: &str) -> Result<String, Wrong> {
    let allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'));
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if allowed && (7..=15).contains(&digits) {
        Ok(text.to_owned())
    } else {
        Err(Wrong::NotPhone)
    }
}

/// Fits the letters and digits of `text` into `mask`'s `#` (digit) and `A`
/// (letter) places; every other mask character is written as itself.
pub(crate) fn masked(mask: &str, text: &str) -> Result<String, Wrong> {
    let mut given = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase());
    let mut out = String::with_capacity(mask.len());
    for slot in mask.chars() {
        match slot {
            '#' => match given.next() {
                Some(c) if c.is_ascii_digit() => out.push(c),
                _ => return Err(Wrong::NotMasked),
            },
            'A' => match given.next() {
                Some(c) if c.is_ascii_alphabetic() => out.push(c),
                _ => return Err(Wrong::NotMasked),
            },
            literal => out.push(literal),
        }
    }
    if given.next().is_some() {
        return Err(Wrong::NotMasked);
    }
    Ok(out)
}

/// A file answer: the records of stored attachments the app made.
fn files(field: &Field, input: &Json) -> Result<Vec<Json>, Wrong> {
    let Json::Array(items) = input else {
        return Err(Wrong::NotFile);
    };
    if items.len() > field.max_files as usize {
        return Err(Wrong::TooManyFiles(field.max_files));
    }
    let mut stored = Vec::with_capacity(items.len());
    for item in items {
        let Json::Object(record) = item else {
            return Err(Wrong::NotFile);
        };
        let string = |key: &str| {
            record
                .get(key)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
        };
        let (Some(attachment), Some(name), Some(media_type), Some(size), Some(sha256)) = (
            string("attachment"),
            string("name"),
            string("type"),
            record.get("size").and_then(Json::as_u64),
            string("sha256"),
        ) else {
            return Err(Wrong::NotFile);
        };
        let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex || record.len() != 5 {
            return Err(Wrong::NotFile);
        }
        if !field.accept.is_empty() && !field.accept.iter().any(|a| a == media_type) {
            return Err(Wrong::FileType);
        }
        if let Some(max) = field.max_size.filter(|&max| size > max) {
            return Err(Wrong::FileTooBig(max));
        }
        let mut clean = Map::new();
        clean.insert("attachment".into(), attachment.into());
        clean.insert("name".into(), name.into());
        clean.insert("type".into(), media_type.into());
        clean.insert("size".into(), size.into());
        clean.insert("sha256".into(), sha256.to_ascii_lowercase().into());
        stored.push(Json::Object(clean));
    }
    Ok(stored)
}

/// A stored answer as expressions see it; `Null` if it does not check
/// out (an answer kept as typed while it was still wrong).
pub(crate) fn to_cel(field: &Field, stored: &Json) -> cel::Value {
    if field.kind == FieldKind::Repeat {
        let Json::Array(instances) = stored else {
            return cel::Value::Null;
        };
        let items = instances
            .iter()
            .map(|instance| group_instance(field, instance))
            .collect::<Vec<_>>();
        return cel::Value::List(items.into());
    }
    match normalize(field, stored) {
        Ok(Some(value)) => plain_to_cel(field.kind, &value),
        _ => cel::Value::Null,
    }
}

/// A shown question's answer as expressions see it. For a repeat group,
/// each instance's questions that its own conditions hide are `null`.
pub(crate) fn to_cel_shown(
    field: &Field,
    stored: &Json,
    context: &cel::Context<'_, '_>,
) -> cel::Value {
    if field.kind != FieldKind::Repeat {
        return to_cel(field, stored);
    }
    let Json::Array(instances) = stored else {
        return cel::Value::Null;
    };
    let items = instances
        .iter()
        .map(|instance| {
            let mut inner = context.new_inner_scope();
            inner.add_variable_from_value("item", group_instance(field, instance));
            let mut map: HashMap<String, cel::Value> = HashMap::with_capacity(field.group.len());
            for member in field.group.iter().filter(|m| m.answers()) {
                let shown = member.show_if.as_ref().is_none_or(|c| c.holds(&inner));
                let value = match instance.get(&member.id) {
                    Some(stored) if shown => to_cel(member, stored),
                    _ => cel::Value::Null,
                };
                map.insert(member.id.clone(), value);
            }
            cel::Value::from(map)
        })
        .collect::<Vec<_>>();
    cel::Value::List(items.into())
}

/// One instance of a repeat group as a map from question id to answer;
/// unanswered questions are `null`.
pub(crate) fn group_instance(group: &Field, instance: &Json) -> cel::Value {
    let mut map: HashMap<String, cel::Value> = HashMap::with_capacity(group.group.len());
    for member in group.group.iter().filter(|m| m.answers()) {
        let value = instance
            .get(&member.id)
            .map_or(cel::Value::Null, |stored| to_cel(member, stored));
        map.insert(member.id.clone(), value);
    }
    map.into()
}

/// A normalized answer as a CEL value.
fn plain_to_cel(kind: FieldKind, value: &Json) -> cel::Value {
    match (kind, value) {
        (FieldKind::Number, Json::Number(n)) => {
            n.as_i64().map_or(cel::Value::Null, cel::Value::Int)
        }
        (FieldKind::Money, Json::String(s)) => {
            s.parse::<f64>().map_or(cel::Value::Null, cel::Value::Float)
        }
        (_, Json::Bool(b)) => cel::Value::Bool(*b),
        (_, Json::String(s)) => cel::Value::String(s.clone().into()),
        (FieldKind::File, Json::Array(items)) => {
            let files = items
                .iter()
                .map(|item| {
                    let mut map: HashMap<String, cel::Value> = HashMap::new();
                    for key in ["name", "type"] {
                        let text = item.get(key).and_then(Json::as_str).unwrap_or_default();
                        map.insert(key.to_owned(), text.to_owned().into());
                    }
                    let size = item.get("size").and_then(Json::as_i64).unwrap_or(0);
                    map.insert("size".to_owned(), cel::Value::Int(size));
                    cel::Value::from(map)
                })
                .collect::<Vec<_>>();
            cel::Value::List(files.into())
        }
        (_, Json::Array(items)) => cel::Value::List(
            items
                .iter()
                .filter_map(|i| i.as_str().map(|s| cel::Value::String(s.to_owned().into())))
                .collect::<Vec<_>>()
                .into(),
        ),
        _ => cel::Value::Null,
    }
}

/// What to tell the person about `wrong`, in `language` (English unless
/// Spanish is asked for).
pub(crate) fn message(
    interview: &Interview,
    field: &Field,
    wrong: &Wrong,
    language: &str,
) -> String {
    if wrong.is_rule()
        && let Some(custom) = &field.rules.message
    {
        return interview.text(custom, language).to_owned();
    }
    let spanish = language == "es";
    let pick = |en: &str, es: &str| {
        if spanish {
            es.to_owned()
        } else {
            en.to_owned()
        }
    };
    match wrong {
        Wrong::Required => pick(
            "Please answer this question.",
            "Por favor, responda esta pregunta.",
        ),
        Wrong::NotText => pick(
            "Please write your answer as text.",
            "Por favor, escriba su respuesta como texto.",
        ),
        Wrong::NotWholeNumber => pick(
            "Enter a whole number, like 3.",
            "Escriba un número entero, por ejemplo 3.",
        ),
        Wrong::NotMoney => pick(
            "Enter an amount, like 1250.00.",
            "Escriba una cantidad, por ejemplo 1250.00.",
        ),
        Wrong::NotDate => pick(
            "Enter a date as year-month-day, like 2026-03-31.",
            "Escriba la fecha como año-mes-día, por ejemplo 2026-03-31.",
        ),
        Wrong::NotYesNo => pick("Choose yes or no.", "Elija sí o no."),
        Wrong::NotChoice => pick(
            "Choose from the options shown.",
            "Elija entre las opciones que se muestran.",
        ),
        Wrong::NotEmail => pick(
            "Enter an email address, like name@example.org.",
            "Escriba un correo electrónico, por ejemplo nombre@ejemplo.org.",
        ),
        Wrong::NotPhone => pick(
            "Enter a phone number with 7 to 15 digits.",
            "Escriba un número de teléfono de 7 a 15 dígitos.",
        ),
        Wrong::NotMasked => {
            let mask = field.mask.as_deref().unwrap_or_default();
            if spanish {
                format!("Escríbalo con esta forma: {mask} (# es un dígito, A una letra).")
            } else {
                format!("Enter it in this form: {mask} (# is a digit, A a letter).")
            }
        }
        Wrong::TooShort(n) => {
            if spanish {
                format!("Use al menos {n} caracteres.")
            } else {
                format!("Use at least {n} characters.")
            }
        }
        Wrong::TooLong(n) => {
            if spanish {
                format!("Use como máximo {n} caracteres.")
            } else {
                format!("Use at most {n} characters.")
            }
        }
        Wrong::TooSmall(n) => {
            if spanish {
                format!("Escriba {n} o más.")
            } else {
                format!("Enter {n} or more.")
            }
        }
        Wrong::TooLarge(n) => {
            if spanish {
                format!("Escriba {n} o menos.")
            } else {
                format!("Enter {n} or less.")
            }
        }
        Wrong::Pattern => pick(
            "This answer is not in the form this question needs.",
            "Esta respuesta no tiene la forma que necesita esta pregunta.",
        ),
        Wrong::TooManyFiles(n) => {
            if spanish {
                format!("Adjunte como máximo {n} archivo(s).")
            } else {
                format!("Attach at most {n} file(s).")
            }
        }
        Wrong::FileType => pick(
            "This kind of file is not accepted here.",
            "Aquí no se acepta este tipo de archivo.",
        ),
        Wrong::FileTooBig(max) => {
            let mib = *max as f64 / (1024.0 * 1024.0);
            if spanish {
                format!("El archivo es demasiado grande; el límite es {mib:.1} MB.")
            } else {
                format!("The file is too large; the limit is {mib:.1} MB.")
            }
        }
        Wrong::NotFile => pick(
            "The attached file could not be read; please attach it again.",
            "No se pudo leer el archivo adjunto; por favor, adjúntelo de nuevo.",
        ),
        Wrong::TooFew(n) => {
            if spanish {
                format!("Agregue al menos {n}.")
            } else {
                format!("Add at least {n}.")
            }
        }
        Wrong::TooMany(n) => {
            if spanish {
                format!("Agregue como máximo {n}.")
            } else {
                format!("Add at most {n}.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_kept_with_two_decimals() {
        for (given, stored) in [
            ("1250", "1250.00"),
            ("$1,250.5", "1250.50"),
            ("0.07", "0.07"),
            ("007.10", "7.10"),
            ("-0", "0.00"),
            ("-12.5", "-12.50"),
        ] {
            assert_eq!(money(&Json::from(given)).as_deref(), Ok(stored), "{given}");
        }
        for wrong in ["", "1.234", "abc", "1.2.3", "12a", "$", "1e5"] {
            assert_eq!(money(&Json::from(wrong)), Err(Wrong::NotMoney), "{wrong}");
        }
    }

    #[test]
    fn dates_must_exist_on_the_calendar() {
        assert_eq!(date("2024-02-29").as_deref(), Ok("2024-02-29"));
        for wrong in [
            "2023-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-04-31",
            "26-04-01",
            "2026-4-1",
            "2026-04-00",
        ] {
            assert_eq!(date(wrong), Err(Wrong::NotDate), "{wrong}");
        }
        assert_eq!(date("2000-02-29").as_deref(), Ok("2000-02-29"));
    }

    #[test]
    fn masked_identifiers_take_their_mask_shape() {
        assert_eq!(
            masked("###-##-####", "123456789").as_deref(),
            Ok("123-45-6789")
        );
        assert_eq!(
            masked("###-##-####", "123-45-6789").as_deref(),
            Ok("123-45-6789")
        );
        assert_eq!(
            masked("A#########", "a123456789").as_deref(),
            Ok("A123456789")
        );
        assert_eq!(masked("A#########", "123456789"), Err(Wrong::NotMasked));
        assert_eq!(masked("###-##-####", "12345678"), Err(Wrong::NotMasked));
        assert_eq!(masked("###-##-####", "1234567890"), Err(Wrong::NotMasked));
        assert_eq!(masked("####", "12a4"), Err(Wrong::NotMasked));
    }

    #[test]
    fn phones_and_emails() {
        assert!(phone("(555) 010-0199").is_ok());
        assert!(phone("+52 55 1234 5678").is_ok());
        assert_eq!(phone("12345"), Err(Wrong::NotPhone));
        assert_eq!(phone("555-CALL-NOW"), Err(Wrong::NotPhone));
        assert!(email("ana@example.org").is_ok());
        for wrong in [
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "a b@example.org",
            "a@b@c.org",
            "a@.org",
        ] {
            assert_eq!(email(wrong), Err(Wrong::NotEmail), "{wrong}");
        }
    }
}
