//! Attributes: `AttributeProto`, the oneof of its 30 value kinds, the list messages, and
//! constructors ([`Attr`]) for building nodes.

/// A named value attached to a node or to the metadata.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    /// Field 1: the attribute's name, e.g. `comm_size`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Field 2: free-form documentation.
    #[prost(string, tag = "2")]
    pub doc_string: String,
    /// Fields 3 to 32: the value, of exactly one kind; `None` if no value field is present.
    #[prost(
        oneof = "AttrValue",
        tags = "3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, \
                25, 26, 27, 28, 29, 30, 31, 32"
    )]
    pub value: Option<AttrValue>,
}

/// Short name for [`AttributeProto`], used with its constructors: `Attr::u64("comm_size", 1024)`.
pub type Attr = AttributeProto;

/// Declares a list message: field 1 is the repeated value (packed for numbers, as proto3 does).
macro_rules! list_message {
    ($(#[$doc:meta])* $name:ident, $kind:ident, $elem:ty) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct $name {
            /// Field 1: the elements, in order.
            #[prost($kind, repeated, tag = "1")]
            pub values: Vec<$elem>,
        }
    };
}

list_message!(/// A list of `double`.
    DoubleList, double, f64);
list_message!(/// A list of `float`.
    FloatList, float, f32);
list_message!(/// A list of `int32`.
    Int32List, int32, i32);
list_message!(/// A list of `int64`.
    Int64List, int64, i64);
list_message!(/// A list of `uint32`.
    Uint32List, uint32, u32);
list_message!(/// A list of `uint64`.
    Uint64List, uint64, u64);
list_message!(/// A list of `sint32` (zigzag-encoded).
    Sint32List, sint32, i32);
list_message!(/// A list of `sint64` (zigzag-encoded).
    Sint64List, sint64, i64);
list_message!(/// A list of `fixed32`.
    Fixed32List, fixed32, u32);
list_message!(/// A list of `fixed64`.
    Fixed64List, fixed64, u64);
list_message!(/// A list of `sfixed32`.
    Sfixed32List, sfixed32, i32);
list_message!(/// A list of `sfixed64`.
    Sfixed64List, sfixed64, i64);
list_message!(/// A list of `bool`.
    BoolList, bool, bool);
list_message!(/// A list of `string`.
    StringList, string, String);
list_message!(/// A list of `bytes`.
    BytesList, bytes, Vec<u8>);

/// The value of an attribute; the comment on each variant is its field number.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum AttrValue {
    /// 3: `double`.
    #[prost(double, tag = "3")]
    Double(f64),
    /// 4: list of `double`.
    #[prost(message, tag = "4")]
    DoubleList(DoubleList),
    /// 5: `float`.
    #[prost(float, tag = "5")]
    Float(f32),
    /// 6: list of `float`.
    #[prost(message, tag = "6")]
    FloatList(FloatList),
    /// 7: `int32`.
    #[prost(int32, tag = "7")]
    Int32(i32),
    /// 8: list of `int32`.
    #[prost(message, tag = "8")]
    Int32List(Int32List),
    /// 9: `int64`.
    #[prost(int64, tag = "9")]
    Int64(i64),
    /// 10: list of `int64`.
    #[prost(message, tag = "10")]
    Int64List(Int64List),
    /// 11: `uint32`.
    #[prost(uint32, tag = "11")]
    Uint32(u32),
    /// 12: list of `uint32`.
    #[prost(message, tag = "12")]
    Uint32List(Uint32List),
    /// 13: `uint64`.
    #[prost(uint64, tag = "13")]
    Uint64(u64),
    /// 14: list of `uint64`.
    #[prost(message, tag = "14")]
    Uint64List(Uint64List),
    /// 15: `sint32`.
    #[prost(sint32, tag = "15")]
    Sint32(i32),
    /// 16: list of `sint32`.
    #[prost(message, tag = "16")]
    Sint32List(Sint32List),
    /// 17: `sint64`.
    #[prost(sint64, tag = "17")]
    Sint64(i64),
    /// 18: list of `sint64`.
    #[prost(message, tag = "18")]
    Sint64List(Sint64List),
    /// 19: `fixed32`.
    #[prost(fixed32, tag = "19")]
    Fixed32(u32),
    /// 20: list of `fixed32`.
    #[prost(message, tag = "20")]
    Fixed32List(Fixed32List),
    /// 21: `fixed64`.
    #[prost(fixed64, tag = "21")]
    Fixed64(u64),
    /// 22: list of `fixed64`.
    #[prost(message, tag = "22")]
    Fixed64List(Fixed64List),
    /// 23: `sfixed32`.
    #[prost(sfixed32, tag = "23")]
    Sfixed32(i32),
    /// 24: list of `sfixed32`.
    #[prost(message, tag = "24")]
    Sfixed32List(Sfixed32List),
    /// 25: `sfixed64`.
    #[prost(sfixed64, tag = "25")]
    Sfixed64(i64),
    /// 26: list of `sfixed64`.
    #[prost(message, tag = "26")]
    Sfixed64List(Sfixed64List),
    /// 27: `bool`.
    #[prost(bool, tag = "27")]
    Bool(bool),
    /// 28: list of `bool`.
    #[prost(message, tag = "28")]
    BoolList(BoolList),
    /// 29: `string`.
    #[prost(string, tag = "29")]
    String(String),
    /// 30: list of `string`.
    #[prost(message, tag = "30")]
    StringList(StringList),
    /// 31: `bytes`.
    #[prost(bytes, tag = "31")]
    Bytes(Vec<u8>),
    /// 32: list of `bytes`.
    #[prost(message, tag = "32")]
    BytesList(BytesList),
}

impl AttrValue {
    /// The protobuf name of the kind (`int64`, `bool list`, ...), for error messages.
    pub fn kind_name(&self) -> &'static str {
        use AttrValue as V;
        match self {
            V::Double(_) => "double",
            V::DoubleList(_) => "double list",
            V::Float(_) => "float",
            V::FloatList(_) => "float list",
            V::Int32(_) => "int32",
            V::Int32List(_) => "int32 list",
            V::Int64(_) => "int64",
            V::Int64List(_) => "int64 list",
            V::Uint32(_) => "uint32",
            V::Uint32List(_) => "uint32 list",
            V::Uint64(_) => "uint64",
            V::Uint64List(_) => "uint64 list",
            V::Sint32(_) => "sint32",
            V::Sint32List(_) => "sint32 list",
            V::Sint64(_) => "sint64",
            V::Sint64List(_) => "sint64 list",
            V::Fixed32(_) => "fixed32",
            V::Fixed32List(_) => "fixed32 list",
            V::Fixed64(_) => "fixed64",
            V::Fixed64List(_) => "fixed64 list",
            V::Sfixed32(_) => "sfixed32",
            V::Sfixed32List(_) => "sfixed32 list",
            V::Sfixed64(_) => "sfixed64",
            V::Sfixed64List(_) => "sfixed64 list",
            V::Bool(_) => "bool",
            V::BoolList(_) => "bool list",
            V::String(_) => "string",
            V::StringList(_) => "string list",
            V::Bytes(_) => "bytes",
            V::BytesList(_) => "bytes list",
        }
    }

    /// The value as an integer if it is of one of the ten integer kinds; `None` otherwise.
    ///
    /// `i128` holds every `int*`, `uint*`, `sint*`, `fixed*` and `sfixed*` value exactly.
    pub fn as_integer(&self) -> Option<i128> {
        use AttrValue as V;
        match *self {
            V::Int32(v) | V::Sint32(v) | V::Sfixed32(v) => Some(v.into()),
            V::Int64(v) | V::Sint64(v) | V::Sfixed64(v) => Some(v.into()),
            V::Uint32(v) | V::Fixed32(v) => Some(v.into()),
            V::Uint64(v) | V::Fixed64(v) => Some(v.into()),
            _ => None,
        }
    }
}

impl AttributeProto {
    /// An attribute with any value kind and no doc string.
    pub fn new(name: impl Into<String>, value: AttrValue) -> Self {
        AttributeProto { name: name.into(), doc_string: String::new(), value: Some(value) }
    }

    /// A `uint64` attribute.
    pub fn u64(name: impl Into<String>, value: u64) -> Self {
        Self::new(name, AttrValue::Uint64(value))
    }

    /// An `int64` attribute (the kind ASTRA-sim's sample traces use for every integer).
    pub fn i64(name: impl Into<String>, value: i64) -> Self {
        Self::new(name, AttrValue::Int64(value))
    }

    /// A `double` attribute.
    pub fn f64(name: impl Into<String>, value: f64) -> Self {
        Self::new(name, AttrValue::Double(value))
    }

    /// A `bool` attribute.
    pub fn bool(name: impl Into<String>, value: bool) -> Self {
        Self::new(name, AttrValue::Bool(value))
    }

    /// A `string` attribute.
    pub fn string(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(name, AttrValue::String(value.into()))
    }

    /// A `bool` list attribute, e.g. `involved_dim`.
    pub fn bool_list(name: impl Into<String>, values: impl Into<Vec<bool>>) -> Self {
        Self::new(name, AttrValue::BoolList(BoolList { values: values.into() }))
    }

    /// A `uint64` list attribute.
    pub fn u64_list(name: impl Into<String>, values: impl Into<Vec<u64>>) -> Self {
        Self::new(name, AttrValue::Uint64List(Uint64List { values: values.into() }))
    }

    /// The `comm_type` attribute of a collective node, as an `int64` like the sample traces.
    pub fn comm_type(kind: crate::CollectiveCommType) -> Self {
        Self::i64("comm_type", kind as i64)
    }
}
