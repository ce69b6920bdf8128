//! A JSON value together with its path, so every error can say where it is
//! (`$.projects[3].budget[0].amount`) and why.

use chrono::NaiveDate;
use serde_json::Value;

use super::ImportError;
use crate::domain::dates::DateSpan;

static NULL: Value = Value::Null;

#[derive(Clone, Debug)]
pub(super) struct Node<'a> {
    value: &'a Value,
    path: String,
}

impl<'a> Node<'a> {
    pub fn root(value: &'a Value) -> Self {
        Self { value, path: "$".into() }
    }

    pub fn value(&self) -> &'a Value {
        self.value
    }

    pub fn path(&self) -> String {
        self.path.clone()
    }

    pub fn error(&self, reason: impl Into<String>) -> ImportError {
        ImportError { path: self.path.clone(), reason: reason.into() }
    }

    /// A member of an object; a missing member reads as null.
    pub fn field(&self, name: &str) -> Node<'a> {
        Node { value: self.value.get(name).unwrap_or(&NULL), path: format!("{}.{name}", self.path) }
    }

    pub fn is_present(&self) -> bool {
        !self.value.is_null()
    }

    pub fn expect_object(&self) -> Result<(), ImportError> {
        if self.value.is_object() {
            Ok(())
        } else {
            Err(self.error(format!("expected an object, found {}", kind(self.value))))
        }
    }

    /// The elements of an array; a missing or null array is empty.
    pub fn items(&self) -> Result<Vec<Node<'a>>, ImportError> {
        Ok(self.opt_items()?.unwrap_or_default())
    }

    pub fn opt_items(&self) -> Result<Option<Vec<Node<'a>>>, ImportError> {
        match self.value {
            Value::Null => Ok(None),
            Value::Array(items) => Ok(Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, value)| Node { value, path: format!("{}[{index}]", self.path) })
                    .collect(),
            )),
            other => Err(self.error(format!("expected an array, found {}", kind(other)))),
        }
    }

    /// The members of an object, in file order; a missing object is empty.
    pub fn entries(&self) -> Result<Vec<(String, Node<'a>)>, ImportError> {
        match self.value {
            Value::Null => Ok(Vec::new()),
            Value::Object(map) => Ok(map
                .iter()
                .map(|(key, value)| (key.clone(), Node { value, path: format!("{}[{key:?}]", self.path) }))
                .collect()),
            other => Err(self.error(format!("expected an object, found {}", kind(other)))),
        }
    }

    pub fn as_str(&self) -> Result<&'a str, ImportError> {
        match self.value {
            Value::String(text) if !text.trim().is_empty() => Ok(text),
            Value::String(_) => Err(self.error("must not be empty")),
            Value::Null => Err(self.error("missing: a text value is required")),
            other => Err(self.error(format!("expected a string, found {}", kind(other)))),
        }
    }

    pub fn req_str(&self, name: &str) -> Result<&'a str, ImportError> {
        self.field(name).as_str()
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, ImportError> {
        let node = self.field(name);
        if node.value.is_null() { Ok(None) } else { node.as_str().map(Some) }
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ImportError> {
        let node = self.field(name);
        match node.value {
            Value::Null => Ok(None),
            Value::Bool(flag) => Ok(Some(*flag)),
            other => Err(node.error(format!("expected true or false, found {}", kind(other)))),
        }
    }

    pub fn opt_i64(&self) -> Result<Option<i64>, ImportError> {
        match self.value {
            Value::Null => Ok(None),
            Value::Number(number) => number.as_i64().map(Some).ok_or_else(|| self.error("expected a whole number")),
            other => Err(self.error(format!("expected a number, found {}", kind(other)))),
        }
    }

    pub fn opt_f64(&self, name: &str) -> Result<Option<f64>, ImportError> {
        let node = self.field(name);
        match node.value {
            Value::Null => Ok(None),
            Value::Number(number) => {
                number.as_f64().filter(|v| v.is_finite()).map(Some).ok_or_else(|| node.error("not a finite number"))
            }
            other => Err(node.error(format!("expected a number, found {}", kind(other)))),
        }
    }

    pub fn req_f64(&self, name: &str) -> Result<f64, ImportError> {
        self.opt_f64(name)?.ok_or_else(|| self.field(name).error("missing: a number is required"))
    }

    /// A full ISO date (`YYYY-MM-DD`), or null.
    pub fn opt_date(&self, name: &str) -> Result<Option<NaiveDate>, ImportError> {
        match self.opt_str(name)? {
            None => Ok(None),
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| self.field(name).error(format!("`{text}` is not a date (expected YYYY-MM-DD)"))),
        }
    }

    /// A possibly partial date (`"2018"`, `"2015-autumn"`, `2014`), or null.
    pub fn opt_span(&self, name: &str) -> Result<Option<DateSpan>, ImportError> {
        super::span_of(&self.field(name))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
