//! Canonical JSON: the exact bytes Satchel signs.
//!
//! Signed documents (the organisation directory, enrollment bundles,
//! manifests, receipts) are signed over their RFC 8785 form, the JSON
//! Canonicalization Scheme (JCS), so that any two parties holding the same
//! JSON value produce the same bytes, whatever order or spacing the value
//! travelled in.
//!
//! The canonical form (RFC 8785 section 3.2):
//!
//! - no whitespace between tokens (section 3.2.1);
//! - `true`, `false` and `null` as themselves (section 3.2.2.1);
//! - strings as ECMAScript's `JSON.stringify` writes them (section 3.2.2.2):
//!   only `\"`, `\\`, `\b`, `\f`, `\n`, `\r` and `\t` as short escapes,
//!   every other character below U+0020 as `\u00xx` in lowercase hex, and
//!   everything else, U+007F and all non-ASCII included, as literal UTF-8
//!   (section 3.2.4);
//! - object members sorted by their names compared as arrays of UTF-16 code
//!   units, not as UTF-8 bytes, recursively (section 3.2.3); arrays keep
//!   their order.
//!
//! Two deliberate restrictions of the scheme, each refused with
//! [`Error::Invalid`] rather than signed:
//!
//! - **Numbers are integers of at most 2^53 - 1 in absolute value.** RFC 8785
//!   section 3.2.2.3 writes every number as ECMAScript writes an IEEE 754
//!   double, which takes a shortest-round-trip float formatter to get right.
//!   Satchel's documents carry only integers (versions, counts, timestamps),
//!   so this module accepts exactly the integers a double represents without
//!   loss (the I-JSON range of RFC 7493 section 2.2) and writes them in
//!   plain decimal, which is what ECMAScript prints for them; `-0` cannot
//!   arise. Any float, including `1.0`, `-0` and non-finite values, and any
//!   larger integer is refused: values outside this range belong in strings.
//! - **Nesting is at most [`MAX_DEPTH`] arrays and objects deep**, so
//!   canonicalizing a hostile value cannot exhaust the stack. serde_json's
//!   parser allows less than that, so any value it parses from text fits.
//!
//! The other I-JSON requirements of RFC 8785 section 3.1 hold by
//! construction: a Rust string cannot hold a lone surrogate, and a
//! [`serde_json::Map`] cannot hold a name twice. (When serde_json parses text
//! with a repeated name it keeps the last one; a caller that must refuse such
//! text has to detect it while parsing, as this module only sees the value.)

use std::cmp::Ordering;
use std::fmt::Display;

use serde::Serialize;
use serde::ser::{self, Error as _, Serializer};
use serde_json::{Map, Number, Value};

use crate::{Error, Result};

/// The largest integer magnitude accepted, 2^53 - 1: the last integer from
/// which every smaller one is exactly representable as an IEEE 754 double.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// How deeply arrays and objects may nest; the top-level value counts as one.
pub const MAX_DEPTH: usize = 128;

/// Serializes `value` in RFC 8785 canonical form.
///
/// `value` is first turned into a [`serde_json::Value`], then canonicalized
/// as [`canonicalize`] does. Floats are refused as they are serialized: left
/// to serde_json, a NaN or infinite float would silently become `null` and
/// be signed as such.
///
/// # Errors
///
/// [`Error::Invalid`] when the value holds a float or an integer beyond
/// ±(2^53 - 1), nests deeper than [`MAX_DEPTH`], or cannot be represented as
/// JSON at all (for example a map whose keys are not strings).
pub fn to_canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let value = Floatless(value)
        .serialize(serde_json::value::Serializer)
        .map_err(|e| {
            Error::Invalid(format!(
                "the document cannot be written as canonical JSON: {e}"
            ))
        })?;
    canonicalize(&value)
}

/// The canonical form of an already-parsed value.
///
/// The output is UTF-8, and parses back to a value equal to `value`;
/// canonicalizing that again gives the same bytes.
///
/// # Errors
///
/// [`Error::Invalid`] when the value holds a float or an integer beyond
/// ±(2^53 - 1), or nests deeper than [`MAX_DEPTH`].
pub fn canonicalize(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_value(&mut out, value, 1)?;
    Ok(out)
}

/// Appends the canonical form of `value`, which sits at nesting `depth`.
fn write_value(out: &mut Vec<u8>, value: &Value, depth: usize) -> Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number)?,
        Value::String(string) => write_string(out, string),
        Value::Array(items) => {
            check_depth(depth)?;
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            check_depth(depth)?;
            out.push(b'{');
            for (i, (name, member)) in sorted_members(members).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, name);
                out.push(b':');
                write_value(out, member, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Refuses an array or object nested deeper than [`MAX_DEPTH`].
fn check_depth(depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Invalid(format!(
            "the document nests more than {MAX_DEPTH} arrays and objects deep and cannot be signed"
        )));
    }
    Ok(())
}

/// The members of an object in RFC 8785 order (section 3.2.3): by name, as
/// arrays of UTF-16 code units. This differs from Rust's `str` order, which
/// is by UTF-8 bytes, whenever a character above U+FFFF (a surrogate pair in
/// UTF-16) meets one from U+E000 to U+FFFF.
fn sorted_members(members: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_unstable_by(|(a, _), (b, _)| utf16_order(a, b));
    sorted
}

/// Compares two strings as arrays of UTF-16 code units.
fn utf16_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Appends an integer in plain decimal, or refuses any other number.
fn write_number(out: &mut Vec<u8>, number: &Number) -> Result<()> {
    // A float never converts to i64, whatever its value, so `1.0` and `-0`
    // are refused along with `0.5`.
    match number.as_i64() {
        Some(integer) if integer.unsigned_abs() <= MAX_SAFE_INTEGER => {
            out.extend_from_slice(integer.to_string().as_bytes());
            Ok(())
        }
        _ => Err(Error::Invalid(unsignable_number(number))),
    }
}

/// The refusal of a number outside the restriction, naming it.
fn unsignable_number(number: impl Display) -> String {
    format!(
        "the number {number} cannot be signed: only integers up to 2^53 - 1 can be signed in \
         canonical JSON, so write it as such an integer or as a string"
    )
}

/// Appends `string` quoted and escaped as ECMAScript's `JSON.stringify`
/// does (RFC 8785 section 3.2.2.2).
fn write_string(out: &mut Vec<u8>, string: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";

    out.push(b'"');
    // Every byte that needs escaping is ASCII, and no byte of a multi-byte
    // UTF-8 sequence is ASCII, so the string can be walked byte by byte.
    for &byte in string.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0f)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

/// A value to serialize with every float refused, at any depth.
struct Floatless<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Floatless<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(NoFloats(serializer))
    }
}

/// Wraps a serializer (or one of its compound states), passing everything
/// through except floats, and wrapping every nested value in [`Floatless`].
struct NoFloats<S>(S);

/// Passes primitive `serialize_*` calls straight through.
macro_rules! pass_through {
    ($($method:ident($ty:ty);)*) => {$(
        fn $method(self, v: $ty) -> Result<S::Ok, S::Error> {
            self.0.$method(v)
        }
    )*};
}

impl<S: Serializer> Serializer for NoFloats<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = NoFloats<S::SerializeSeq>;
    type SerializeTuple = NoFloats<S::SerializeTuple>;
    type SerializeTupleStruct = NoFloats<S::SerializeTupleStruct>;
    type SerializeTupleVariant = NoFloats<S::SerializeTupleVariant>;
    type SerializeMap = NoFloats<S::SerializeMap>;
    type SerializeStruct = NoFloats<S::SerializeStruct>;
    type SerializeStructVariant = NoFloats<S::SerializeStructVariant>;

    pass_through! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_unit_struct(&'static str);
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom(unsignable_number(v)))
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom(unsignable_number(v)))
    }

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Floatless(value))
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Floatless(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Floatless(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(NoFloats)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(NoFloats)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(NoFloats)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(NoFloats)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(NoFloats)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(NoFloats)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(NoFloats)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

impl<S: ser::SerializeSeq> ser::SerializeSeq for NoFloats<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_element(&Floatless(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTuple> ser::SerializeTuple for NoFloats<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_element(&Floatless(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTupleStruct> ser::SerializeTupleStruct for NoFloats<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_field(&Floatless(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTupleVariant> ser::SerializeTupleVariant for NoFloats<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_field(&Floatless(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeMap> ser::SerializeMap for NoFloats<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Floatless(key))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Floatless(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStruct> ser::SerializeStruct for NoFloats<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_field(key, &Floatless(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStructVariant> ser::SerializeStructVariant for NoFloats<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_field(key, &Floatless(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// Canonicalizes JSON text, as a string.
    fn canonical_text(text: &str) -> String {
        let value: Value = serde_json::from_str(text).expect("test input parses");
        String::from_utf8(canonicalize(&value).expect("canonicalizes")).expect("UTF-8 output")
    }

    /// Asserts that `result` is the refusal of an unsignable number.
    fn assert_number_refused(result: Result<Vec<u8>>) {
        match result {
            Err(Error::Invalid(message)) => assert!(
                message.contains("only integers up to 2^53 - 1 can be signed"),
                "{message}"
            ),
            other => panic!("expected the number to be refused, got {other:?}"),
        }
    }

    // RFC 8785 section 3.2.3, verbatim: the emoji (a surrogate pair in
    // UTF-16) sorts before U+FB33, though after it by code point.
    #[test]
    fn rfc_8785_sorting_example() {
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                        \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\
                        \"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\
                        \"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canonical_text(input), expected);
    }

    // RFC 8785 section 3.2.2's example, without its "numbers" member, which
    // holds floats: the string and the literals come out as the RFC prints
    // them. The whole example is refused for its floats.
    #[test]
    fn rfc_8785_primitives_example_strings_and_literals() {
        let input = r#"{
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let expected = r#"{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
        assert_eq!(canonical_text(input), expected);

        let whole = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let value: Value = serde_json::from_str(whole).expect("parses");
        assert_number_refused(canonicalize(&value));
    }

    #[test]
    fn names_sort_by_utf16_code_units_not_utf8_bytes() {
        let (e_acute, emoji, fullwidth_a) = ("\u{e9}", "\u{1f600}", "\u{ff21}");
        let value = json!({ fullwidth_a: 3, emoji: 2, e_acute: 1 });

        // By UTF-8 bytes (Rust's order) the emoji comes last...
        let by_utf8: Vec<&str> = BTreeMap::from([(e_acute, ()), (emoji, ()), (fullwidth_a, ())])
            .into_keys()
            .collect();
        assert_eq!(by_utf8, [e_acute, fullwidth_a, emoji]);

        // ...but its high surrogate, 0xD83D, sorts before 0xFF21.
        let canonical = canonicalize(&value).expect("canonicalizes");
        assert_eq!(
            canonical,
            "{\"\u{e9}\":1,\"\u{1f600}\":2,\"\u{ff21}\":3}".as_bytes()
        );
    }

    #[test]
    fn names_sort_as_code_units_at_every_level() {
        let value = json!({ "b": [{ "z": 1, "a": 2 }], "a": { "d": true, "c": null }, "": 0 });
        let canonical = canonicalize(&value).expect("canonicalizes");
        assert_eq!(
            canonical,
            br#"{"":0,"a":{"c":null,"d":true},"b":[{"a":2,"z":1}]}"#
        );

        // A prefix sorts first; upper case sorts before lower.
        let value = json!({ "ab": 1, "a": 2, "B": 3 });
        assert_eq!(
            canonicalize(&value).expect("canonicalizes"),
            br#"{"B":3,"a":2,"ab":1}"#
        );
    }

    #[test]
    fn strings_escape_exactly_as_json_stringify() {
        // Every control character, then the characters that are not escaped
        // though other serializers might: DEL, '/', and non-ASCII.
        let controls: String = (0u8..0x20).map(char::from).collect();
        let value = Value::String(format!("{controls}\"\\\u{7f}/\u{e9}\u{2028}\u{1f600}"));
        let expected = concat!(
            r#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007"#,
            r#"\b\t\n\u000b\f\r\u000e\u000f"#,
            r#"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017"#,
            r#"\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"#,
            "\\\"\\\\\u{7f}/\u{e9}\u{2028}\u{1f600}\"",
        );
        let canonical = canonicalize(&value).expect("canonicalizes");
        assert_eq!(String::from_utf8(canonical).expect("UTF-8"), expected);
    }

    #[test]
    fn literals_and_empty_containers() {
        assert_eq!(
            canonical_text(" [ true , false , null , [ ] , { } , \"\" ] "),
            r#"[true,false,null,[],{},""]"#
        );
    }

    #[test]
    fn integers_up_to_2_pow_53_minus_1_are_plain_decimal() {
        let max = MAX_SAFE_INTEGER as i64;
        for (value, text) in [
            (0, "0"),
            (7, "7"),
            (-1, "-1"),
            (1_700_000_000, "1700000000"),
            (max, "9007199254740991"),
            (-max, "-9007199254740991"),
        ] {
            assert_eq!(
                canonicalize(&json!(value)).expect("accepted"),
                text.as_bytes()
            );
        }
        assert_eq!(
            canonical_text("[9007199254740991, -9007199254740991]"),
            "[9007199254740991,-9007199254740991]"
        );
    }

    #[test]
    fn floats_and_larger_integers_are_refused() {
        for text in [
            "9007199254740992",
            "-9007199254740992",
            "18446744073709551615",
            "-9223372036854775808",
            "1.0",
            "0.5",
            "-0",
            "-0.0",
            "1e2",
            "1E30",
            "[1, {\"deep\": [2.5]}]",
        ] {
            let value: Value = serde_json::from_str(text).expect("parses");
            assert_number_refused(canonicalize(&value));
        }
    }

    #[test]
    fn output_is_a_fixed_point() {
        let inputs = [
            r#"{"b": [1, 2, {"y": "\u00e9", "x": null}], "a": "tab\there", "\ud83d\ude00": true}"#,
            r#"[{"z": {}, "a": []}, "\u001f", -5]"#,
            r#""just a string""#,
        ];
        for input in inputs {
            let once = canonical_text(input);
            assert_eq!(canonical_text(&once), once);
        }
    }

    #[test]
    fn input_member_order_does_not_matter() {
        let a = r#"{"version": 3, "members": [{"name": "Ana", "key": "k1"}],
                    "org": {"id": 1, "name": "Clinic"}}"#;
        let b = r#"{"org": {"name": "Clinic", "id": 1},
                    "members": [{"key": "k1", "name": "Ana"}], "version": 3}"#;
        let canonical = canonical_text(a);
        assert_eq!(canonical_text(b), canonical);
        assert_eq!(
            canonical,
            r#"{"members":[{"key":"k1","name":"Ana"}],"org":{"id":1,"name":"Clinic"},"version":3}"#
        );
    }

    #[test]
    fn serializable_types_canonicalize_like_their_values() {
        #[derive(Serialize)]
        struct Receipt {
            version: u32,
            issued_at: i64,
            note: Option<String>,
            labels: BTreeMap<String, u64>,
            kind: Kind,
        }
        #[derive(Serialize)]
        enum Kind {
            Manifest { files: Vec<u16> },
        }

        let receipt = Receipt {
            version: 2,
            issued_at: -1,
            note: None,
            labels: BTreeMap::from([("\u{ff21}".to_owned(), 1), ("\u{1f600}".to_owned(), 2)]),
            kind: Kind::Manifest { files: vec![3, 1] },
        };
        let canonical = to_canonical_json(&receipt).expect("canonicalizes");
        let expected = "{\"issued_at\":-1,\"kind\":{\"Manifest\":{\"files\":[3,1]}},\
                        \"labels\":{\"\u{1f600}\":2,\"\u{ff21}\":1},\"note\":null,\"version\":2}";
        assert_eq!(String::from_utf8(canonical).expect("UTF-8"), expected);

        let value = serde_json::to_value(&receipt).expect("to value");
        assert_eq!(
            to_canonical_json(&receipt).expect("canonicalizes"),
            canonicalize(&value).expect("canonicalizes")
        );
    }

    #[test]
    fn serializable_types_with_floats_are_refused() {
        // serde_json alone would turn the non-finite ones into null.
        assert_eq!(
            serde_json::to_value(f64::NAN).expect("to value"),
            Value::Null
        );
        for float in [0.5, 1.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_number_refused(to_canonical_json(&float));
            assert_number_refused(to_canonical_json(&[float]));
            assert_number_refused(to_canonical_json(&Some(vec![(1u8, float as f32)])));
        }
        assert_number_refused(to_canonical_json(&BTreeMap::from([("n", 0.25)])));
    }

    #[test]
    fn serializable_types_with_large_integers_are_refused() {
        assert_number_refused(to_canonical_json(&(MAX_SAFE_INTEGER + 1)));
        assert_number_refused(to_canonical_json(&i64::MIN));
        assert!(matches!(
            to_canonical_json(&u128::MAX),
            Err(Error::Invalid(_))
        ));
        assert_eq!(
            to_canonical_json(&i128::from(-7)).expect("small i128"),
            b"-7"
        );
    }

    #[test]
    fn maps_with_non_string_keys_become_strings_or_are_refused() {
        // serde_json writes integer keys as strings; composite keys cannot be.
        let numbered = BTreeMap::from([(10, "ten"), (9, "nine")]);
        assert_eq!(
            to_canonical_json(&numbered).expect("canonicalizes"),
            br#"{"10":"ten","9":"nine"}"#
        );
        let composite = BTreeMap::from([((1, 2), "pair")]);
        assert!(matches!(
            to_canonical_json(&composite),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn nesting_is_limited_to_max_depth() {
        let nested =
            |depth: usize| (1..depth).fold(json!([]), |inner, _| Value::Array(vec![inner]));
        let deepest = canonicalize(&nested(MAX_DEPTH)).expect("at the limit");
        assert_eq!(deepest.len(), 2 * MAX_DEPTH);
        assert!(matches!(
            canonicalize(&nested(MAX_DEPTH + 1)),
            Err(Error::Invalid(_))
        ));

        // Anything serde_json parses from text is within the limit.
        let mut parsed_depth = 0;
        for depth in 1..=MAX_DEPTH + 1 {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            if serde_json::from_str::<Value>(&text).is_ok() {
                parsed_depth = depth;
            }
        }
        assert!(
            (1..=MAX_DEPTH).contains(&parsed_depth),
            "serde_json parses {parsed_depth} deep"
        );
    }

    /// Whether `value` holds a number [`canonicalize`] refuses.
    fn has_unsignable_number(value: &Value) -> bool {
        match value {
            Value::Number(n) => n
                .as_i64()
                .is_none_or(|i| i.unsigned_abs() > MAX_SAFE_INTEGER),
            Value::Array(items) => items.iter().any(has_unsignable_number),
            Value::Object(members) => members.values().any(has_unsignable_number),
            _ => false,
        }
    }

    /// Arbitrary JSON values: mostly signable, with a few floats and
    /// out-of-range integers mixed in, and strings of any characters.
    fn arbitrary_value() -> impl Strategy<Value = Value> {
        let max = MAX_SAFE_INTEGER as i64;
        let leaf = prop_oneof![
            2 => Just(Value::Null),
            2 => any::<bool>().prop_map(Value::Bool),
            6 => (-max..=max).prop_map(Value::from),
            8 => any::<String>().prop_map(Value::String),
            // Rare enough that most composite values are still signable.
            1 => prop_oneof![
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
            ],
        ];
        leaf.prop_recursive(5, 96, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn canonicalize_round_trips_or_refuses_a_number(value in arbitrary_value()) {
            match canonicalize(&value) {
                Ok(canonical) => {
                    let parsed: Value = serde_json::from_slice(&canonical)
                        .expect("canonical output parses");
                    prop_assert_eq!(&parsed, &value);
                    prop_assert_eq!(canonicalize(&parsed).expect("still canonical"), canonical);
                }
                Err(Error::Invalid(message)) => {
                    prop_assert!(has_unsignable_number(&value), "{}", message);
                }
                Err(other) => prop_assert!(false, "unexpected error {}", other),
            }
        }
    }
}
