package model

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Meta is a registered model's metadata: its fields, primary key, options and its
// precompiled codec. A Meta is immutable once Register returns it and safe for
// concurrent use.
type Meta struct {
	// Name is the Go type name, such as "Book".
	Name string
	// Type is the model's struct type.
	Type reflect.Type
	// Collection is the MongoDB collection ("" for embedded models).
	Collection string
	// Embedded reports an embedded model (a struct embedding model.Embedded), stored as
	// a sub-document of other models.
	Embedded bool
	// Fields lists the fields in declaration order, primary key (or composite key
	// members) first. Fields promoted from abstract base structs appear where the base
	// is embedded.
	Fields []*Field
	// PK is the primary key field, stored as _id: the ID of model.Model, the field tagged
	// primary_key, or for a composite key a synthetic field named "pk" of kind
	// CompositePrimaryKey (Index nil) whose members are PKFields. Nil for embedded models.
	PK *Field
	// PKFields lists the members of a composite primary key (two or more), else nil.
	PKFields []*Field
	// Options are the model's resolved Meta options, defaults filled in.
	Options Options

	registry   *Registry
	byName     map[string]*Field // lookup names, "pk" (and "id" for model.Model)
	plan       *docPlan          // encode/decode plan over the struct's memory
	ptrType    reflect.Type      // *Type
	stateOff   uintptr           // offset of model.Base (models)
	extraOff   uintptr           // offset of model.Embedded (embedded models)
	sizeHint   atomic.Int64      // last encoded size, to allocate Encode's buffer once
	checks     []fieldCheck      // Validate's per-field checks
	prepares   []prepareStep     // PrepareSave's per-field steps
	indexSpecs []IndexSpec
}

// Field is one field of a model.
type Field struct {
	// Meta is the model (or embedded model) the field belongs to.
	Meta *Meta
	// Name is the lookup name: the snake_case Go name (PublishedAt → published_at).
	Name string
	// GoName is the Go struct field name.
	GoName string
	// Column is the stored key: db_column= or Name; "_id" for the primary key, and a
	// composite key member's key inside the _id sub-document.
	Column string
	// Path is the dotted stored path from the document root of Meta: Column, or
	// "_id.<column>" for a composite key member. Fields of embedded models have paths
	// relative to their own sub-document.
	Path string
	// Kind is the Django field kind.
	Kind fields.Kind
	// Type is the Go type of the struct field (a pointer type for nullable fields).
	Type reflect.Type
	// Index is the field's index sequence for reflect.Value.FieldByIndex.
	Index []int

	PrimaryKey bool // the primary key, or a member of a composite key
	Auto       bool // an integer AutoField: modjo allocates the value on insert
	Null       bool // nil is allowed (pointer types; JSON and polymorphic fields with null)
	Blank      bool // empty strings, slices and maps are allowed
	Unique     bool // values are unique across the collection (a unique index)
	DBIndex    bool // the field is indexed
	Editable   bool // false for editable=false, auto_now and auto_now_add fields
	AutoNow    bool // set to the current time on every save
	AutoNowAdd bool // set to the current time when the instance is first saved

	// Embedded is the embedded model of an EmbeddedModelField or EmbeddedModelArrayField.
	Embedded *Meta
	// Many reports an array of sub-documents (EmbeddedModelArrayField,
	// PolymorphicEmbeddedModelArrayField).
	Many bool
	// Polymorphic lists the embedded models a polymorphic field may hold, from types=.
	Polymorphic []*Meta
	// ElemKind is the kind of the innermost elements of an ArrayField.
	ElemKind fields.Kind

	VerboseName string // verbose_name=, default: Name with spaces
	HelpText    string // help_text=

	// Value constraints from the tag. For an array field they apply to each element.
	MaxLength     int // max_length= (characters; bytes for binary); 0: none
	MinValue      any // min_value= as int64, float64, time.Duration or *apd.Decimal; nil: none
	MaxValue      any // max_value=, typed like MinValue
	MaxDigits     int // max_digits=; 0: none
	DecimalPlaces int // decimal_places=; -1: none
	Size          int // size= (arrays: maximum number of elements); 0: none
	Choices       []fields.Choice
	Validators    []string // validators= names, run on the whole field value

	// Default is the default= value, typed as the field's non-pointer Go type, or a
	// DefaultFunc for defaults computed at save time (now, today, new, JSON values).
	// HasDefault tells a nil Default apart from no default.
	Default    any
	HasDefault bool

	// Relation describes a relation field; nil until relation fields exist.
	Relation *Relation

	off        uintptr // offset of the field in the model's struct
	codec      *codec
	validators []fields.Validator
	defaultFn  func(now time.Time) reflect.Value // non-pointer value to assign
	choiceSet  map[any]bool
	dbColumn   bool // db_column= was given
}

// Relation describes a ForeignKey, OneToOneField or ManyToManyField. Relation fields are
// introduced by a later part of modjo; until then Field.Relation is always nil.
type Relation struct {
	// Target is the related model.
	Target *Meta
}

// DefaultFunc computes a field default when an instance is saved; now is the save time
// (UTC, milliseconds).
type DefaultFunc func(now time.Time) any

// Options are a model's Meta options, declared with a method on the model's value type:
//
//	func (Book) Meta() model.Options { return model.Options{Ordering: []string{"-published"}} }
type Options struct {
	// Collection is the MongoDB collection; default: the snake_case type name.
	Collection string
	// Ordering is the default order of QuerySets: lookup names, "-name" for descending.
	Ordering []string
	// Indexes are extra indexes: single, compound, unique, partial or TTL.
	Indexes []Index
	// Constraints are model constraints (UniqueConstraint).
	Constraints []Constraint
	// UniqueTogether lists groups of fields whose values are unique together.
	UniqueTogether [][]string
	// VerboseName is the human-readable singular name; default: the type name in words.
	VerboseName string
	// VerboseNamePlural defaults to VerboseName + "s".
	VerboseNamePlural string
}

// Index declares an index. Fields are lookup names ("-name" for descending, dotted paths
// into embedded models such as "shop.city", "pk" for the primary key).
type Index struct {
	Fields []string
	// Name defaults to MongoDB's own naming (path_1_other_-1).
	Name   string
	Unique bool
	Sparse bool
	// PartialFilter is a partial index filter in MongoDB query language over stored
	// keys, such as bson.D{{"status", "published"}}.
	PartialFilter bson.D
	// ExpireAfter makes a TTL index (whole seconds; the single field must be a date).
	ExpireAfter time.Duration
}

// Constraint is a model constraint. UniqueConstraint is the only kind so far.
type Constraint interface {
	ConstraintName() string
}

// UniqueConstraint makes Fields unique together, among the documents matching Condition
// when it is set (a partial unique index). Name is required.
type UniqueConstraint struct {
	Name   string
	Fields []string
	// Condition is a filter in MongoDB query language over stored keys; only documents
	// matching it take part. Partial index filters accept equality, $exists: true,
	// $gt/$gte/$lt/$lte, $type, $and, $or and $in.
	Condition bson.D
}

// ConstraintName returns the constraint's name.
func (c UniqueConstraint) ConstraintName() string { return c.Name }

// IndexSpec is an index a model needs, ready for createIndexes.
type IndexSpec struct {
	Name               string
	Keys               bson.D // stored path → int32(1) or int32(-1)
	Unique, Sparse     bool
	PartialFilter      bson.D
	ExpireAfterSeconds *int32
}

// UniqueCheck is one uniqueness rule an instance must satisfy, for FullClean's database
// checks: no other document may match Filter (and Condition, when not nil).
type UniqueCheck struct {
	// Fields are the lookup names involved.
	Fields []string
	// Filter maps stored paths to the instance's stored values (bson.RawValue).
	Filter bson.D
	// Condition is the constraint's condition, or nil. The instance itself satisfies it
	// (or it could not be evaluated locally); other documents must match it too.
	Condition bson.D
}

// Field returns the field with the given lookup name, or "pk" for the primary key (for
// model.Model, "id" too).
func (m *Meta) Field(name string) (*Field, bool) {
	f, ok := m.byName[name]
	return f, ok
}

// FieldNames returns the lookup names of the fields, in order.
func (m *Meta) FieldNames() []string {
	names := make([]string, len(m.Fields))
	for i, f := range m.Fields {
		names[i] = f.Name
	}
	return names
}

// New returns a pointer to a new zero instance.
func (m *Meta) New() any { return reflect.New(m.Type).Interface() }

// String returns the model name.
func (m *Meta) String() string { return m.Name }

// ptr returns the address of obj's struct after checking its type (*T).
func (m *Meta) ptr(obj any) (unsafe.Pointer, error) {
	v := reflect.ValueOf(obj)
	if !v.IsValid() {
		return nil, fmt.Errorf("modjo: %s: nil instance", m.Name)
	}
	if v.Type() != m.ptrType {
		return nil, fmt.Errorf("modjo: %s: want a *%s, got %s", m.Name, m.Name, v.Type())
	}
	if v.IsNil() {
		return nil, fmt.Errorf("modjo: %s: nil *%s", m.Name, m.Name)
	}
	return v.UnsafePointer(), nil
}

// Get returns the field's value in obj (a pointer to the field's model struct).
func (f *Field) Get(obj any) (any, error) {
	v, err := f.value(obj)
	if err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

// Set assigns v to the field in obj (a pointer to the field's model struct); v must be
// assignable or convertible to the field's Go type (nil sets a pointer field to nil).
func (f *Field) Set(obj any, v any) error {
	fv, err := f.value(obj)
	if err != nil {
		return err
	}
	if v == nil {
		switch fv.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
			fv.SetZero()
			return nil
		}
		return fmt.Errorf("modjo: %s.%s: cannot set nil", f.Meta.Name, f.Name)
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Type().AssignableTo(fv.Type()):
		fv.Set(rv)
	case fv.Kind() == reflect.Pointer && rv.Type().ConvertibleTo(fv.Type().Elem()) && sameFamily(rv.Kind(), fv.Type().Elem().Kind()):
		p := reflect.New(fv.Type().Elem())
		p.Elem().Set(rv.Convert(fv.Type().Elem()))
		fv.Set(p)
	case rv.Type().ConvertibleTo(fv.Type()) && sameFamily(rv.Kind(), fv.Kind()):
		fv.Set(rv.Convert(fv.Type()))
	default:
		return fmt.Errorf("modjo: %s.%s: cannot set a %T into %s", f.Meta.Name, f.Name, v, fv.Type())
	}
	return nil
}

// sameFamily limits Set's conversions to numbers between numeric types and otherwise to
// identical kinds (no int-to-string rune conversion).
func sameFamily(a, b reflect.Kind) bool {
	num := func(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Float64 }
	return a == b || num(a) && num(b)
}

func (f *Field) value(obj any) (reflect.Value, error) {
	if f.Index == nil {
		return reflect.Value{}, fmt.Errorf("modjo: %s.%s has no Go field", f.Meta.Name, f.Name)
	}
	v := reflect.ValueOf(obj)
	if !v.IsValid() || v.Type() != f.Meta.ptrType || v.IsNil() {
		return reflect.Value{}, fmt.Errorf("modjo: %s.%s: want a non-nil *%s, got %T", f.Meta.Name, f.Name, f.Meta.Name, obj)
	}
	return v.Elem().FieldByIndex(f.Index), nil
}

// ChoiceLabel returns the label of a choice value (Django's get_FOO_display), or the
// value formatted with %v when it is not a choice.
func (f *Field) ChoiceLabel(value any) string {
	key := choiceKey(value)
	for _, c := range f.Choices {
		if c.Value == key {
			return c.Label
		}
	}
	return fmt.Sprint(value)
}

// String returns "Model.name".
func (f *Field) String() string { return f.Meta.Name + "." + f.Name }
