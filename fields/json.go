package fields

// A JSONField tells three states apart, as Django does on PostgreSQL:
//
//   - no value (SQL NULL): the key is not stored at all;
//   - JSON null: the key is stored with BSON null;
//   - any other JSON value: stored as native BSON (objects as sub-documents, arrays as
//     arrays, numbers as int32/int64/double).
//
// How each Go type spells them:
//
//	Go type          no value        JSON null               value
//	any              nil             JSONNull                anything else
//	JSON             JSON{}          JSON{Null: true}        JSON{Value: v}
//	map[string]any   nil map         (not representable)     a non-nil map
//
// A stored BSON null loads as JSONNull into an any field, as JSON{Null: true} into a
// JSON field and as a nil map into a map[string]any field. Inside a value, Go nil and
// BSON null are plain JSON nulls.

// JSONNullValue is the type of JSONNull.
type JSONNullValue struct{}

// JSONNull is JSON null in a JSONField declared as any (where Go nil means "no value").
var JSONNull JSONNullValue

// JSON is a JSONField value that keeps JSON null apart from no value. The zero JSON is no
// value; JSON{Null: true} is JSON null; otherwise Value holds the JSON value (Null is
// ignored when Value is not nil).
type JSON struct {
	Value any
	Null  bool
}

// IsNone reports whether j holds no value (neither JSON null nor anything else).
func (j JSON) IsNone() bool { return j.Value == nil && !j.Null }

// Polymorphic holds one instance of one of the embedded model types listed in the
// field's `types=` option (PolymorphicEmbeddedModelField). It is stored as a
// sub-document with an extra "_label" key holding the Go type name of the instance, and
// loads back as a pointer to that type. Value may hold T or *T when saving; a nil Value
// is stored as BSON null.
type Polymorphic struct {
	Value any
}

// LabelKey is the key of the type label in a polymorphic sub-document.
const LabelKey = "_label"

// Choice is one allowed value of a field with choices, and its human-readable label.
// Value has the field's value type: string for string kinds, int64 for integers,
// float64 for floats, bool, or the decimal's canonical string for decimals.
type Choice struct {
	Value any
	Label string
}
