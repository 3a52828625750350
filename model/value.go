package model

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ToStored converts a Go value given for the field in a filter or an update to the value
// MongoDB stores for it, exactly as the field's codec writes it: int32 or int64 for
// integers (by the field's Go type), float64, string, bool, bson.DateTime (times
// truncated to the millisecond), bson.ObjectID, bson.Decimal128, bson.Binary (UUIDs,
// bytes), bson.D for sub-documents (keys in stored order), bson.A for arrays, nil for
// BSON null (a nil pointer on a nullable field), or Unset for a JSONField without a
// value.
//
// v may be the field's Go type, a pointer to it, or an obviously compatible value:
//
//   - any Go integer for an integer field, when it fits the field's type (a whole float
//     too); any Go number for a float field;
//   - any value whose kind is string for a string field, bool for a boolean field;
//   - time.Time or fields.Date for DateTimeField and DateField (a time gives its UTC
//     date; a date gives midnight UTC), time.Time for TimeField (its time of day);
//   - bson.Decimal128, apd.Decimal, *apd.Decimal, integers or floats for a DecimalField;
//   - any [16]byte-based type or bson.Binary (subtype 4 or 3) for a UUIDField;
//   - text in the field's canonical form for dates (YYYY-MM-DD), times of day, RFC 3339
//     times, durations (Go syntax), UUIDs, ObjectIDs (hex) and decimals;
//   - slices of compatible elements for an ArrayField; T or *T for an embedded model;
//   - for a composite primary key: a tuple ([]any, in declaration order), a bson.D or
//     map keyed by the members' lookup names, or an instance of the model.
//
// Anything else is an error naming the model, the field and the Go type. ToStored is
// safe for concurrent use.
func (f *Field) ToStored(v any) (any, error) {
	if f.Kind == fields.CompositePrimaryKey {
		return f.compositeToStored(v)
	}
	if f.codec == nil {
		return nil, fmt.Errorf("modjo: %s.%s has no stored form", f.Meta.Name, f.Name)
	}
	x, err := storedValue(f.codec, v)
	if err != nil {
		return nil, fmt.Errorf("modjo: %s.%s (%s, Go type %s): %w", f.Meta.Name, f.Name, describeKind(f), f.Type, err)
	}
	return x, nil
}

// storedValue converts v for codec c. Common scalar cases are handled directly, with the
// codec's own stored type; everything else is assigned to a Go value of the codec's type
// and encoded by the codec itself.
func storedValue(c *codec, v any) (any, error) {
	if c.ptr {
		if isNilValue(v) {
			return nil, nil
		}
		c = c.elem
	}
	if x, ok, err := fastStored(c, v); ok || err != nil {
		return x, err
	}
	dst := reflect.New(c.typ)
	if err := assign(c, dst.Elem(), v); err != nil {
		return nil, err
	}
	buf, t, err := c.enc(nil, dst.UnsafePointer())
	if err != nil {
		return nil, plainError(err)
	}
	if t == 0 {
		return Unset, nil
	}
	return decodeStored(t, buf)
}

// isNilValue reports nil, or a chain of pointers ending in nil.
func isNilValue(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return true
		}
		rv = rv.Elem()
	}
	return false
}

// fastStored handles the scalar cases a filter uses most, without reflection where the
// value's type is the plain Go type. ok is false when the general path must decide.
func fastStored(c *codec, v any) (x any, ok bool, err error) {
	if c.isJSON || c.slice || c.meta != nil {
		return nil, false, nil
	}
	switch {
	case c.kind.IsString():
		if _, isStr := v.(string); isStr {
			return v, true, nil
		}
	case c.kind.IsInteger():
		n, isNum, err := intOf(v)
		if !isNum {
			return nil, false, nil
		}
		if err != nil {
			return nil, true, err
		}
		lo, hi := intRange(c.typ)
		if n < lo || n > hi {
			return nil, true, fmt.Errorf("%d is out of range for %s", n, c.typ)
		}
		if c.stored == tInt32 {
			return int32(n), true, nil
		}
		return n, true, nil
	case c.kind == fields.FloatField:
		f, isNum := floatOf(v)
		if !isNum {
			return nil, false, nil
		}
		if c.typ.Kind() == reflect.Float32 {
			if math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
				return nil, true, fmt.Errorf("%v is out of range for %s", f, c.typ)
			}
			f = float64(float32(f))
		}
		return f, true, nil
	case c.kind == fields.BooleanField:
		if _, isBool := v.(bool); isBool {
			return v, true, nil
		}
	case c.typ == typeTime:
		if t, isTime := v.(time.Time); isTime {
			ms, err := timeToMillis(t)
			if err != nil {
				return nil, true, plainError(err)
			}
			return bson.DateTime(ms), true, nil
		}
	case c.typ == typeDate:
		if d, isDate := v.(fields.Date); isDate {
			ms, err := timeToMillis(d.Time())
			if err != nil {
				return nil, true, plainError(err)
			}
			return bson.DateTime(ms), true, nil
		}
	case c.typ == typeObjectID:
		if _, isID := v.(bson.ObjectID); isID {
			return v, true, nil
		}
	}
	return nil, false, nil
}

// plainError drops a codec fault's path bookkeeping, keeping its message.
func plainError(err error) error {
	if f, ok := err.(*fault); ok {
		return errors.New(f.msg)
	}
	return err
}

// intRange returns the values a Go integer type holds.
func intRange(t reflect.Type) (lo, hi int64) {
	switch t.Kind() {
	case reflect.Int8:
		return math.MinInt8, math.MaxInt8
	case reflect.Int16:
		return math.MinInt16, math.MaxInt16
	case reflect.Int32:
		return math.MinInt32, math.MaxInt32
	case reflect.Uint8:
		return 0, math.MaxUint8
	case reflect.Uint16:
		return 0, math.MaxUint16
	case reflect.Uint32:
		return 0, math.MaxUint32
	}
	return math.MinInt64, math.MaxInt64
}

// intOf reads a Go number as an integer. isNum is false for non-numbers, and for
// time.Duration and fields.TimeOfDay, which are quantities with a unit, not counts. A
// float must be whole; an unsigned value must fit int64.
func intOf(v any) (n int64, isNum bool, err error) {
	switch x := v.(type) {
	case int:
		return int64(x), true, nil
	case int32:
		return int64(x), true, nil
	case int64:
		return x, true, nil
	case time.Duration, fields.TimeOfDay, bool, string, nil:
		return 0, false, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Type() == typeDuration || rv.Type() == typeTimeOfDay {
			return 0, false, nil
		}
		return rv.Int(), true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return 0, true, fmt.Errorf("%d is out of range for a BSON integer", u)
		}
		return int64(u), true, nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, true, fmt.Errorf("%v is not a whole number", f)
		}
		if f < -9223372036854775808.0 || f >= 9223372036854775808.0 {
			return 0, true, fmt.Errorf("%v is out of range for a BSON integer", f)
		}
		return int64(f), true, nil
	}
	return 0, false, nil
}

// floatOf reads any Go number (not durations or times of day) as a float64.
func floatOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case time.Duration, fields.TimeOfDay, bool, string, nil:
		return 0, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Type() == typeDuration || rv.Type() == typeTimeOfDay {
			return 0, false
		}
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

// assign stores v into dst, a settable value of c's Go type, converting compatible
// values; the codec then encodes dst.
func assign(c *codec, dst reflect.Value, v any) error {
	if c.ptr {
		if isNilValue(v) {
			dst.SetZero()
			return nil
		}
		p := reflect.New(c.elem.typ)
		if err := assign(c.elem, p.Elem(), v); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	}
	t := c.typ
	if v == nil {
		if c.isJSON || c.kind == fields.PolymorphicEmbeddedModelField {
			dst.SetZero()
			return nil
		}
		return fmt.Errorf("nil is not a value of a non-nullable field (use a pointer type to allow null)")
	}
	rv := reflect.ValueOf(v)
	// Pointers to compatible values are followed (a nil one is nil); JSON values never
	// hold pointers, so any pointer is followed for them.
	for rv.Kind() == reflect.Pointer && (!rv.Type().AssignableTo(t) || t.Kind() == reflect.Interface) {
		if rv.IsNil() {
			return assign(c, dst, nil)
		}
		rv = rv.Elem()
		v = rv.Interface()
	}
	if rv.Type().AssignableTo(t) {
		dst.Set(rv)
		return nil
	}
	bad := func() error { return fmt.Errorf("cannot use a %s value", rv.Type()) }
	str, isStr := "", rv.Kind() == reflect.String
	if isStr {
		str = rv.String()
	}
	switch {
	case c.isJSON:
		return bad()
	case t == typeTime:
		switch x := v.(type) {
		case fields.Date:
			dst.Set(reflect.ValueOf(x.Time()))
			return nil
		case bson.DateTime:
			dst.Set(reflect.ValueOf(x.Time().UTC()))
			return nil
		}
		if isStr {
			tm, err := time.Parse(time.RFC3339Nano, str)
			if err != nil {
				return fmt.Errorf("want an RFC 3339 time, got %q", str)
			}
			dst.Set(reflect.ValueOf(tm))
			return nil
		}
		return bad()
	case t == typeDate:
		switch x := v.(type) {
		case time.Time:
			dst.Set(reflect.ValueOf(fields.DateOf(x.UTC())))
			return nil
		case bson.DateTime:
			dst.Set(reflect.ValueOf(fields.DateOf(x.Time().UTC())))
			return nil
		}
		if isStr {
			d, err := fields.ParseDate(str)
			if err != nil {
				return err
			}
			dst.Set(reflect.ValueOf(d))
			return nil
		}
		return bad()
	case t == typeTimeOfDay:
		if x, ok := v.(time.Time); ok {
			dst.Set(reflect.ValueOf(fields.TimeOfDayOf(x)))
			return nil
		}
		if isStr {
			d, err := fields.ParseTimeOfDay(str)
			if err != nil {
				return err
			}
			dst.Set(reflect.ValueOf(d))
			return nil
		}
		return bad()
	case t == typeDuration:
		if isStr {
			d, err := time.ParseDuration(str)
			if err != nil {
				return fmt.Errorf("want a Go duration (1h30m), got %q", str)
			}
			dst.Set(reflect.ValueOf(d))
			return nil
		}
		return bad()
	case t == typeObjectID:
		if isStr {
			id, err := bson.ObjectIDFromHex(str)
			if err != nil {
				return fmt.Errorf("want 24 hex digits, got %q", str)
			}
			dst.Set(reflect.ValueOf(id))
			return nil
		}
		return bad()
	case c.kind == fields.DecimalField:
		return assignDecimal(t, dst, v, rv)
	case c.kind == fields.UUIDField:
		switch {
		case rv.Kind() == reflect.Array && rv.Type().ConvertibleTo(t):
			dst.Set(rv.Convert(t))
			return nil
		case isStr:
			u, err := parseUUID(str)
			if err != nil {
				return err
			}
			dst.Set(reflect.ValueOf(u).Convert(t))
			return nil
		}
		if b, ok := v.(bson.Binary); ok && (b.Subtype == 4 || b.Subtype == 3) && len(b.Data) == 16 {
			dst.Set(reflect.ValueOf([16]byte(b.Data)).Convert(t))
			return nil
		}
		return bad()
	case c.kind == fields.BinaryField:
		if b, ok := v.(bson.Binary); ok {
			dst.SetBytes(b.Data)
			return nil
		}
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			dst.Set(rv.Convert(t))
			return nil
		}
		return bad()
	case c.kind.IsString():
		if isStr {
			dst.SetString(str)
			return nil
		}
		return bad()
	case c.kind == fields.BooleanField:
		if rv.Kind() == reflect.Bool {
			dst.SetBool(rv.Bool())
			return nil
		}
		return bad()
	case c.kind.IsInteger():
		n, isNum, err := intOf(v)
		if !isNum {
			return bad()
		}
		if err != nil {
			return err
		}
		lo, hi := intRange(t)
		if n < lo || n > hi {
			return fmt.Errorf("%d is out of range for %s", n, t)
		}
		if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uintptr {
			dst.SetUint(uint64(n))
		} else {
			dst.SetInt(n)
		}
		return nil
	case c.kind == fields.FloatField:
		f, isNum := floatOf(v)
		if !isNum {
			return bad()
		}
		if t.Kind() == reflect.Float32 && math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
			return fmt.Errorf("%v is out of range for %s", f, t)
		}
		dst.SetFloat(f)
		return nil
	case c.slice:
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return bad()
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			dst.SetZero()
			return nil
		}
		n := rv.Len()
		s := reflect.MakeSlice(t, n, n)
		for i := 0; i < n; i++ {
			if err := assign(c.elem, s.Index(i), rv.Index(i).Interface()); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		dst.Set(s)
		return nil
	case c.kind == fields.PolymorphicEmbeddedModelField:
		dst.Set(reflect.ValueOf(fields.Polymorphic{Value: v}))
		return nil
	}
	return bad()
}

// assignDecimal stores a decimal, an integer, a float or decimal text into a
// bson.Decimal128 or apd.Decimal.
func assignDecimal(t reflect.Type, dst reflect.Value, v any, rv reflect.Value) error {
	var d bson.Decimal128
	switch x := v.(type) {
	case bson.Decimal128:
		d = x
	case apd.Decimal:
		if t == typeAPD {
			dst.Set(reflect.ValueOf(x))
			return nil
		}
		var err error
		if d, err = apdToDecimal128(&x); err != nil {
			return plainError(err)
		}
	default:
		if n, isNum, err := intOf(v); isNum && err == nil && rv.Kind() != reflect.Float32 && rv.Kind() != reflect.Float64 {
			d = decimalFromInt(n)
		} else if f, isNum := floatOf(v); isNum {
			d = decimalFromFloat(f)
		} else if rv.Kind() == reflect.String {
			var perr error
			if d, perr = bson.ParseDecimal128(strings.TrimSpace(rv.String())); perr != nil {
				return fmt.Errorf("invalid decimal %q", rv.String())
			}
		} else {
			return fmt.Errorf("cannot use a %s value", rv.Type())
		}
	}
	if t == typeAPD {
		var a apd.Decimal
		if err := decimal128ToAPD(d, &a); err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(a))
		return nil
	}
	dst.Set(reflect.ValueOf(d))
	return nil
}

// compositeToStored builds the _id sub-document of a composite primary key from a tuple,
// a document or map keyed by the members' lookup names (or columns), or an instance.
func (f *Field) compositeToStored(v any) (any, error) {
	m := f.Meta
	members := m.PKFields
	fail := func(format string, args ...any) error {
		return fmt.Errorf("modjo: %s.pk (CompositePrimaryKey of %s): %s", m.Name, strings.Join(memberNames(members), ", "), fmt.Sprintf(format, args...))
	}
	vals := make([]any, len(members))
	rv := reflect.ValueOf(v)
	switch x := v.(type) {
	case nil:
		return nil, fail("nil is not a primary key")
	case bson.D:
		got := map[string]any{}
		for _, e := range x {
			got[e.Key] = e.Value
		}
		if err := byMember(members, got, vals); err != nil {
			return nil, fail("%v", err)
		}
	case bson.M:
		if err := byMember(members, x, vals); err != nil {
			return nil, fail("%v", err)
		}
	case map[string]any:
		if err := byMember(members, x, vals); err != nil {
			return nil, fail("%v", err)
		}
	default:
		switch {
		case rv.Type() == m.ptrType || rv.Type() == m.Type:
			obj := v
			if rv.Type() == m.Type {
				p := reflect.New(m.Type)
				p.Elem().Set(rv)
				obj = p.Interface()
			} else if rv.IsNil() {
				return nil, fail("nil *%s", m.Name)
			}
			for i, mf := range members {
				x, err := mf.Get(obj)
				if err != nil {
					return nil, err
				}
				vals[i] = x
			}
		case rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array:
			if rv.Len() != len(members) {
				return nil, fail("want a tuple of %d values, got %d", len(members), rv.Len())
			}
			for i := range vals {
				vals[i] = rv.Index(i).Interface()
			}
		default:
			return nil, fail("cannot use a %T (want a tuple, a bson.D keyed by member names, or a *%s)", v, m.Name)
		}
	}
	out := make(bson.D, len(members))
	for i, mf := range members {
		x, err := mf.ToStored(vals[i])
		if err != nil {
			return nil, err
		}
		out[i] = bson.E{Key: mf.Column, Value: x}
	}
	return out, nil
}

func memberNames(fs []*Field) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return names
}

// byMember fills vals from a map keyed by member lookup names or columns; every member
// must be given once and nothing else.
func byMember(members []*Field, got map[string]any, vals []any) error {
	used := 0
	for i, mf := range members {
		x, ok := got[mf.Name]
		if !ok && mf.Column != mf.Name {
			x, ok = got[mf.Column]
		}
		if !ok {
			return fmt.Errorf("missing member %q", mf.Name)
		}
		vals[i] = x
		used++
	}
	if used != len(got) {
		return fmt.Errorf("unknown keys among %d given (members: %s)", len(got), strings.Join(memberNames(members), ", "))
	}
	return nil
}

// decodeStored converts an encoded value to Go with the driver's decoder: bson.D and
// bson.A for documents and arrays (keeping order), the driver's types for scalars. It is
// the general path of ToStored; the common kinds take fast paths that never encode.
func decodeStored(t byte, v []byte) (any, error) {
	var x any
	if err := (bson.RawValue{Type: bson.Type(t), Value: v}).Unmarshal(&x); err != nil {
		return nil, err
	}
	return x, nil
}
