//! Typed access to attributes by name, as ASTRA-sim reads them: integers of any protobuf integer
//! kind, bools, strings and bool lists.
//!
//! Absent attributes are `Ok(None)`; an attribute of the wrong kind, a negative value read as
//! unsigned, a name that appears twice or an attribute with no value is an [`AttrError`].

use crate::attr::{AttrValue, AttributeProto};
use crate::error::{AttrError, AttrOwner};
use crate::message::{CollectiveCommType, GlobalMetadata, Node};

impl Node {
    /// The first attribute named `name`, of any kind.
    pub fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.attr.iter().find(|a| a.name == name)
    }

    /// An integer attribute of any integer kind, as `u64`; negative values are an error.
    pub fn attr_u64(&self, name: &str) -> Result<Option<u64>, AttrError> {
        get_u64(self.owner(), &self.attr, name)
    }

    /// Like [`Node::attr_u64`], but an absent attribute is an error too.
    pub fn require_u64(&self, name: &str) -> Result<u64, AttrError> {
        self.attr_u64(name)?.ok_or_else(|| missing(self.owner(), name, "an integer"))
    }

    /// An integer attribute of any integer kind, as `i64`; values above `i64::MAX` are an error.
    pub fn attr_i64(&self, name: &str) -> Result<Option<i64>, AttrError> {
        let owner = self.owner();
        let Some((value, integer)) = get_integer(owner, &self.attr, name)? else {
            return Ok(None);
        };
        let expected =
            || format!("an integer up to 2^63 - 1, found {} {integer}", value.kind_name());
        i64::try_from(integer).map(Some).map_err(|_| error(owner, name, expected()))
    }

    /// A `bool` attribute, e.g. `is_cpu_op`.
    pub fn attr_bool(&self, name: &str) -> Result<Option<bool>, AttrError> {
        match find(self.owner(), &self.attr, name)? {
            None => Ok(None),
            Some(AttrValue::Bool(value)) => Ok(Some(*value)),
            Some(other) => Err(wrong_kind(self.owner(), name, "a bool", other)),
        }
    }

    /// A `string` attribute, e.g. `pg_name`.
    pub fn attr_str(&self, name: &str) -> Result<Option<&str>, AttrError> {
        get_str(self.owner(), &self.attr, name)
    }

    /// A `bool` list attribute, e.g. `involved_dim`.
    pub fn attr_bool_list(&self, name: &str) -> Result<Option<&[bool]>, AttrError> {
        match find(self.owner(), &self.attr, name)? {
            None => Ok(None),
            Some(AttrValue::BoolList(list)) => Ok(Some(&list.values)),
            Some(other) => Err(wrong_kind(self.owner(), name, "a bool list", other)),
        }
    }

    /// The collective's kind, from the required integer attribute `comm_type`.
    ///
    /// Meaningful on COMM_COLL nodes only: ASTRA-sim's custom-collective samples put 5 and 6 (the
    /// numbers of COMM_SEND and COMM_RECV) in `comm_type` of their sends and receives, which this
    /// would read as BROADCAST and ALL_TO_ALL.
    pub fn comm_type(&self) -> Result<CollectiveCommType, AttrError> {
        let owner = self.owner();
        let name = "comm_type";
        let Some((value, integer)) = get_integer(owner, &self.attr, name)? else {
            return Err(missing(owner, name, "a CollectiveCommType integer"));
        };
        let known = i32::try_from(integer).ok().and_then(|v| CollectiveCommType::try_from(v).ok());
        let expected =
            || format!("a CollectiveCommType from 0 to 9, found {} {integer}", value.kind_name());
        known.ok_or_else(|| error(owner, name, expected()))
    }

    fn owner(&self) -> AttrOwner {
        AttrOwner::Node(self.id)
    }
}

impl GlobalMetadata {
    /// A `string` attribute of the metadata (the custom-collective samples carry `schema` and
    /// `input_file`).
    pub fn attr_str(&self, name: &str) -> Result<Option<&str>, AttrError> {
        get_str(AttrOwner::Metadata, &self.attr, name)
    }

    /// An integer attribute of the metadata, of any integer kind, as `u64`.
    pub fn attr_u64(&self, name: &str) -> Result<Option<u64>, AttrError> {
        get_u64(AttrOwner::Metadata, &self.attr, name)
    }
}

/// The value of the only attribute named `name`, or `None` if there is none.
fn find<'a>(
    owner: AttrOwner,
    attrs: &'a [AttributeProto],
    name: &str,
) -> Result<Option<&'a AttrValue>, AttrError> {
    let mut named = attrs.iter().filter(|a| a.name == name);
    let Some(first) = named.next() else {
        return Ok(None);
    };
    let count = 1 + named.count();
    if count > 1 {
        return Err(error(owner, name, format!("one attribute of this name, found {count}")));
    }
    match &first.value {
        Some(value) => Ok(Some(value)),
        None => Err(error(owner, name, "a value, found an attribute with none".to_string())),
    }
}

fn get_integer<'a>(
    owner: AttrOwner,
    attrs: &'a [AttributeProto],
    name: &str,
) -> Result<Option<(&'a AttrValue, i128)>, AttrError> {
    let Some(value) = find(owner, attrs, name)? else {
        return Ok(None);
    };
    match value.as_integer() {
        Some(integer) => Ok(Some((value, integer))),
        None => Err(wrong_kind(owner, name, "an integer (any protobuf integer kind)", value)),
    }
}

fn get_u64(
    owner: AttrOwner,
    attrs: &[AttributeProto],
    name: &str,
) -> Result<Option<u64>, AttrError> {
    let Some((value, integer)) = get_integer(owner, attrs, name)? else {
        return Ok(None);
    };
    let expected = || format!("a non-negative integer, found {} {integer}", value.kind_name());
    u64::try_from(integer).map(Some).map_err(|_| error(owner, name, expected()))
}

fn get_str<'a>(
    owner: AttrOwner,
    attrs: &'a [AttributeProto],
    name: &str,
) -> Result<Option<&'a str>, AttrError> {
    match find(owner, attrs, name)? {
        None => Ok(None),
        Some(AttrValue::String(value)) => Ok(Some(value)),
        Some(other) => Err(wrong_kind(owner, name, "a string", other)),
    }
}

fn wrong_kind(owner: AttrOwner, name: &str, expected: &str, found: &AttrValue) -> AttrError {
    error(owner, name, format!("{expected}, found {}", found.kind_name()))
}

fn missing(owner: AttrOwner, name: &str, expected: &str) -> AttrError {
    error(owner, name, format!("{expected}, found no such attribute"))
}

fn error(owner: AttrOwner, name: &str, expected: String) -> AttrError {
    AttrError { owner, name: name.to_string(), expected }
}
