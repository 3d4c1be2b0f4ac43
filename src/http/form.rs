//! Form and JSON input: every field arrives as text (a form) or as a number (JSON); both
//! become text here so that one parser checks them the same way.

use serde::{Deserialize, Deserializer};

/// Accept a string, a number, a boolean or null as text.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        S(String),
        I(i64),
        F(f64),
        B(bool),
        N(()),
    }
    Ok(match Option::<Any>::deserialize(d)? {
        Some(Any::S(s)) => s,
        Some(Any::I(i)) => i.to_string(),
        Some(Any::F(f)) => f.to_string(),
        Some(Any::B(b)) => b.to_string(),
        Some(Any::N(())) | None => String::new(),
    })
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
