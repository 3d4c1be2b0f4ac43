//! Open311 answers as one small tree, written as JSON or as XML by the Spark convention
//! the spec uses: a list is a JSON array and, in XML, an element holding one child
//! element per item (`<services><service>…</service></services>`). Errors come in the
//! spec's own shape (`[{"code", "description"}]`, `<errors><error>…`), never as problem
//! details: the `render_errors` middleware leaves bodies that are not plain text alone.

use std::fmt::Write;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::error::AppError;
use crate::i18n::{Lang, tr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The resource and format a file name asks for: `services.xml` is (`services`, XML).
    pub fn split(file: &str) -> Option<(&str, Format)> {
        if let Some(stem) = file.strip_suffix(".json") {
            Some((stem, Format::Json))
        } else {
            file.strip_suffix(".xml").map(|stem| (stem, Format::Xml))
        }
    }

    /// Errors for a name that asks for no known format come as JSON.
    pub fn of(file: &str) -> Format {
        Format::split(file).map_or(Format::Json, |(_, f)| f)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// A value of an answer. Fields without a value are left out rather than sent empty.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Int(i64),
    Number(f64),
    Bool(bool),
    Null,
    /// A list, and the element name of its items in XML.
    List(&'static str, Vec<Node>),
    Object(Vec<(&'static str, Node)>),
}

impl Node {
    pub fn text(s: impl Into<String>) -> Node {
        Node::Text(s.into())
    }

    pub fn to_json(&self) -> String {
        let mut out = String::new();
        json(self, &mut out);
        out
    }

    /// The whole XML document, `root` being the outermost element.
    pub fn to_xml(&self, root: &str) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml(root, self, &mut out);
        out.push('\n');
        out
    }
}

fn json(node: &Node, out: &mut String) {
    match node {
        Node::Text(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Node::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Node::Number(f) if f.is_finite() => {
            let _ = write!(out, "{f}");
        }
        Node::Number(_) | Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::List(_, items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(item, out);
            }
            out.push(']');
        }
        Node::Object(fields) => {
            out.push('{');
            for (i, (name, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(name).unwrap_or_default());
                out.push(':');
                json(value, out);
            }
            out.push('}');
        }
    }
}

/// Characters XML 1.0 cannot carry at all are dropped; the rest is escaped.
fn xml_text(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
        })
        .collect();
    quick_xml::escape::escape(kept.as_str()).into_owned()
}

fn xml(name: &str, node: &Node, out: &mut String) {
    let open = |out: &mut String| {
        let _ = write!(out, "<{name}>");
    };
    let close = |out: &mut String| {
        let _ = write!(out, "</{name}>");
    };
    match node {
        Node::Null => {
            let _ = write!(out, "<{name}/>");
        }
        Node::Number(f) if !f.is_finite() => {
            let _ = write!(out, "<{name}/>");
        }
        Node::Text(s) => {
            open(out);
            out.push_str(&xml_text(s));
            close(out);
        }
        Node::Int(i) => {
            let _ = write!(out, "<{name}>{i}</{name}>");
        }
        Node::Number(f) => {
            let _ = write!(out, "<{name}>{f}</{name}>");
        }
        Node::Bool(b) => {
            let _ = write!(out, "<{name}>{b}</{name}>");
        }
        Node::List(item, items) => {
            open(out);
            for i in items {
                xml(item, i, out);
            }
            close(out);
        }
        Node::Object(fields) => {
            open(out);
            for (field, value) in fields {
                xml(field, value, out);
            }
            close(out);
        }
    }
}

/// A successful answer: the tree, its XML root element, and the format asked for.
pub struct Reply {
    pub format: Format,
    pub root: &'static str,
    pub body: Node,
}

impl Reply {
    pub fn new(format: Format, root: &'static str, body: Node) -> Self {
        Reply { format, root, body }
    }
}

fn respond(status: StatusCode, format: Format, root: &str, body: &Node) -> Response {
    let text = match format {
        Format::Json => body.to_json(),
        Format::Xml => body.to_xml(root),
    };
    let mut res = (status, text).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    res
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        respond(StatusCode::OK, self.format, self.root, &self.body)
    }
}

/// An error in the spec's shape: the HTTP status, and one description per problem
/// (in English: the spec's clients are developers).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub status: StatusCode,
    pub descriptions: Vec<String>,
}

impl Failure {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Failure {
            status,
            descriptions: vec![description.into()],
        }
    }
    pub fn bad(description: impl Into<String>) -> Self {
        Failure::new(StatusCode::BAD_REQUEST, description)
    }
    pub fn forbidden(description: impl Into<String>) -> Self {
        Failure::new(StatusCode::FORBIDDEN, description)
    }
    pub fn not_found(description: impl Into<String>) -> Self {
        Failure::new(StatusCode::NOT_FOUND, description)
    }

    pub fn render(&self, format: Format) -> Response {
        let code = i64::from(self.status.as_u16());
        let errors = self
            .descriptions
            .iter()
            .map(|d| {
                Node::Object(vec![
                    ("code", Node::Int(code)),
                    ("description", Node::text(d.clone())),
                ])
            })
            .collect();
        respond(self.status, format, "errors", &Node::List("error", errors))
    }
}

/// The Open311 name of a field the shared report rules name otherwise.
fn open311_field(field: &str) -> &str {
    match field {
        "category" => "service_code",
        "lon" => "long",
        "address" => "address_string",
        "place" => "lat/long or address_string",
        "name" => "first_name/last_name",
        other => other,
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        let en = |vi: &'static str| tr(Lang::En, vi).to_string();
        match e {
            AppError::Validation(fields) => Failure {
                status: StatusCode::BAD_REQUEST,
                descriptions: fields
                    .iter()
                    .map(|f| format!("{}: {}", open311_field(&f.field), en(f.message)))
                    .collect(),
            },
            AppError::NotFound => Failure::not_found("Not found."),
            AppError::Unauthorized | AppError::Forbidden => {
                Failure::forbidden("Missing or invalid api_key.")
            }
            AppError::BadRequest(m) | AppError::Conflict(m) | AppError::TooLarge(m) => {
                Failure::bad(en(m))
            }
            AppError::TooManyRequests { message, .. } => {
                Failure::new(StatusCode::TOO_MANY_REQUESTS, en(message))
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "open311: internal error");
                Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The service could not complete the request; try again later.",
                )
            }
        }
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::from(AppError::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_arrays_in_json_and_wrapped_elements_in_xml() {
        let body = Node::List(
            "service",
            vec![Node::Object(vec![
                ("service_code", Node::text("fire")),
                ("service_name", Node::text("Cháy, nổ <&> \u{1}")),
                ("metadata", Node::Bool(false)),
                ("lat", Node::Number(20.856)),
                ("account_id", Node::Null),
            ])],
        );
        assert_eq!(
            body.to_json(),
            r#"[{"service_code":"fire","service_name":"Cháy, nổ <&> \u0001","metadata":false,"lat":20.856,"account_id":null}]"#
        );
        assert_eq!(
            body.to_xml("services"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<services><service><service_code>fire</service_code>\
             <service_name>Cháy, nổ &lt;&amp;&gt; </service_name><metadata>false</metadata>\
             <lat>20.856</lat><account_id/></service></services>\n"
        );
    }

    #[test]
    fn formats_come_from_the_file_name() {
        assert_eq!(
            Format::split("services.json"),
            Some(("services", Format::Json))
        );
        assert_eq!(Format::split("12.xml"), Some(("12", Format::Xml)));
        assert_eq!(Format::split("services"), None);
        assert_eq!(Format::of("services.html"), Format::Json);
    }
}
