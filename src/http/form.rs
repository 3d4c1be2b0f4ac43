//! Form and JSON input: every field arrives as text (a form) or as a number (JSON); both
//! become text here so that one parser checks them the same way.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// Accept a string, a number, a boolean or null as text.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    // A visitor rather than an untagged enum: that one buffers every value and builds an
    // error for each variant it tries before the one that fits, on every field of every
    // report.
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string, a number, a boolean or null")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(match i64::try_from(v) {
                Ok(i) => i.to_string(),
                Err(_) => (v as f64).to_string(),
            })
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
            d.deserialize_any(Text)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
            Err(de::Error::custom(NO_MATCH))
        }
        fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
            Err(de::Error::custom(NO_MATCH))
        }
    }
    const NO_MATCH: &str = "data did not match any variant of untagged enum Any";
    d.deserialize_any(Text)
}

/// Collects per-field errors while a form is parsed.
#[derive(Debug, Default)]
pub struct Checker {
    pub errors: Vec<super::error::FieldError>,
}

impl Checker {
    /// Keep the value, or note the error under `field` and go on.
    pub fn check<T>(&mut self, field: &str, r: Result<T, crate::domain::Invalid>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(super::error::FieldError {
                    field: field.to_string(),
                    message: e.0,
                });
                None
            }
        }
    }

    pub fn fail(&mut self, field: &str, message: &'static str) {
        self.errors.push(super::error::FieldError {
            field: field.to_string(),
            message,
        });
    }

    pub fn message_for(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }

    pub fn finish<T>(self, value: Option<T>) -> Result<T, super::error::AppError> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(super::error::AppError::Validation(self.errors)),
        }
    }
}

/// One field of a generic form page.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    /// "text", "number", "date", "textarea", "select", "hidden"
    pub input: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
    pub error: Option<&'static str>,
    pub required: bool,
    pub hint: &'static str,
}

impl FieldView {
    pub fn new(
        name: &'static str,
        label: &'static str,
        input: &'static str,
        value: impl Into<String>,
    ) -> Self {
        Self {
            name,
            label,
            input,
            value: value.into(),
            options: Vec::new(),
            error: None,
            required: false,
            hint: "",
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }
    pub fn options(mut self, options: Vec<(String, String)>) -> Self {
        self.options = options;
        self
    }
    pub fn is_selected(&self, value: &str) -> bool {
        self.value == value
    }
}

/// Attach the checker's messages to the fields they belong to.
pub fn with_errors(
    mut fields: Vec<FieldView>,
    errors: &[super::error::FieldError],
) -> Vec<FieldView> {
    for f in &mut fields {
        f.error = errors.iter().find(|e| e.field == f.name).map(|e| e.message);
    }
    fields
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Form {
        #[serde(deserialize_with = "super::text", default)]
        a: String,
    }

    #[test]
    fn any_scalar_is_text() {
        let read = |json: &str| serde_json::from_str::<Form>(json).map(|f| f.a);
        assert_eq!(read(r#"{"a": "chữ"}"#).unwrap(), "chữ");
        assert_eq!(read(r#"{"a": 20.84}"#).unwrap(), "20.84");
        assert_eq!(read(r#"{"a": -7}"#).unwrap(), "-7");
        assert_eq!(
            read(r#"{"a": 18446744073709551615}"#).unwrap(),
            "18446744073709552000"
        );
        assert_eq!(read(r#"{"a": true}"#).unwrap(), "true");
        assert_eq!(read(r#"{"a": null}"#).unwrap(), "");
        assert_eq!(read(r#"{}"#).unwrap(), "");
        assert!(read(r#"{"a": [1]}"#).is_err());
        assert!(read(r#"{"a": {"b": 1}}"#).is_err());
    }
}
