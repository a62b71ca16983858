//! The served OpenAPI document as a validator: finds the operation a request went to and the
//! schema its answer must match, and validates JSON against it (JSON Schema 2020-12, `$ref`s
//! resolved within the document). Object schemas are closed for validation (no property the
//! document does not list), so a field the API adds without documenting it fails too.

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// The document, with what the run has exercised.
pub struct Doc {
    /// The document as served.
    pub raw: Value,
    /// Components with every object schema closed.
    closed: Value,
    /// `(path template, method, status)` answered during the run.
    pub seen: BTreeSet<(String, String, String)>,
}

/// Closes every object schema that lists properties but says nothing about others.
fn close(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            m.values_mut().for_each(close);
        }
        Value::Array(a) => a.iter_mut().for_each(close),
        _ => {}
    }
}

impl Doc {
    /// From the JSON of `/openapi.json`.
    pub fn new(raw: Value) -> Self {
        let mut closed = raw["components"].clone();
        close(&mut closed);
        Self {
            raw,
            closed,
            seen: BTreeSet::new(),
        }
    }

    /// The path template a concrete path (without query) answers to.
    pub fn template(&self, path: &str) -> Option<String> {
        let want: Vec<&str> = path.split('/').collect();
        self.raw["paths"]
            .as_object()?
            .keys()
            .find(|t| {
                let parts: Vec<&str> = t.split('/').collect();
                parts.len() == want.len()
                    && parts
                        .iter()
                        .zip(&want)
                        .all(|(p, w)| p == w || (p.starts_with('{') && !w.is_empty()))
            })
            .cloned()
    }

    /// The documented response of an operation for a status.
    pub fn response(&self, template: &str, method: &str, status: u16) -> Result<&Value, String> {
        let op = &self.raw["paths"][template][method];
        if !op.is_object() {
            return Err(format!("{method} {template} is not in the document"));
        }
        let r = &op["responses"][status.to_string()];
        if r.is_object() {
            Ok(r)
        } else {
            Err(format!(
                "{method} {template} answered {status}, which the document does not list"
            ))
        }
    }

    /// Validates `instance` against `schema` (which may hold `$ref`s into the components).
    pub fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        let mut root = match schema {
            Value::Object(m) => m.clone(),
            Value::Bool(_) => Map::new(),
            other => return Err(format!("not a schema: {other}")),
        };
        close_top(&mut root);
        root.insert("components".into(), self.closed.clone());
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .map_err(|e| format!("the document's schema does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// Checks one answer: its status is documented for the operation, its content type is one
    /// the document gives, and a JSON body matches the schema. Records what was seen.
    pub fn check(
        &mut self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), String> {
        let path = path.split('?').next().unwrap_or(path);
        let template = self
            .template(path)
            .ok_or_else(|| format!("{path} matches no path of the document"))?;
        let r = self.response(&template, method, status)?.clone();
        self.seen
            .insert((template.clone(), method.into(), status.to_string()));
        let what = format!("{method} {path} → {status}");
        let Some(content) = r["content"].as_object() else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(format!("{what}: a body where the document declares none"))
            };
        };
        let ctype = content_type
            .ok_or_else(|| format!("{what}: no Content-Type"))?
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let media = content.get(&ctype).ok_or_else(|| {
            let known: Vec<&String> = content.keys().collect();
            format!("{what}: Content-Type {ctype} is not one of {known:?}")
        })?;
        if ctype != "application/json" {
            return Ok(());
        }
        let json: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{what}: the body is not JSON: {e}"))?;
        self.validate(&media["schema"], &json)
            .map_err(|e| format!("{what}: {e}\n  body: {json}"))
    }

    /// The request body schema of an operation, if it takes one.
    pub fn request_schema(&self, template: &str, method: &str) -> Option<&Value> {
        let s = &self.raw["paths"][template][method]["requestBody"]["content"]["application/json"]
            ["schema"];
        s.is_object().then_some(s)
    }

    /// A `#/components/schemas/…` reference resolved one step (the schema itself otherwise).
    pub fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                &self.raw["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    /// Every `(method, path template)` of the document.
    pub fn operations(&self) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in self.raw["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                if item[method].is_object() {
                    out.insert((method.to_string(), path.clone()));
                }
            }
        }
        out
    }
}

/// The methods a path item can hold, lower case as in the document.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Closes the top-level schema too when it is an inline object.
fn close_top(root: &mut Map<String, Value>) {
    let mut v = Value::Object(std::mem::take(root));
    close(&mut v);
    if let Value::Object(m) = v {
        *root = m;
    }
}
