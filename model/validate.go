package model

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// fieldCheck validates one field of the struct at p, reporting under name.
type fieldCheck func(p unsafe.Pointer, name string, ve *ValidationError)

// Validate runs the field-level checks of Django's full_clean on obj (a *T of this
// model): null, blank, choices, max_length, min_value/max_value, email/URL/slug/IP,
// decimal digits and places, array size, valid dates and times, polymorphic types,
// named validators, recursively through embedded models (reported as "shop.city",
// "items.0.name"). It returns every message at once, keyed by lookup name, or nil when
// obj is valid. Uniqueness needs the database: see UniqueChecks.
func (m *Meta) Validate(obj any) *ValidationError {
	p, err := m.ptr(obj)
	if err != nil {
		ve := &ValidationError{Model: m.Name}
		ve.Add("", sentence(err.Error()))
		return ve
	}
	ve := &ValidationError{Model: m.Name}
	m.validate(p, "", ve)
	if ve.Empty() {
		return nil
	}
	return ve
}

func (m *Meta) validate(p unsafe.Pointer, prefix string, ve *ValidationError) {
	for i, f := range m.Fields {
		if f.Index == nil {
			continue
		}
		m.checks[i](unsafe.Add(p, f.off), prefix+f.Name, ve)
	}
}

func buildChecks(m *Meta) []fieldCheck {
	checks := make([]fieldCheck, len(m.Fields))
	for i, f := range m.Fields {
		checks[i] = fieldChecker(f)
	}
	return checks
}

// Validation messages, in Django's wording.
const (
	msgNull  = "This field cannot be null."
	msgBlank = "This field cannot be blank."
)

// valueCheck checks one value (not a pointer) and reports under name; item ≥ 0 marks
// element item of an array field, reported as Django's ArrayField does ("Item N in the
// array did not validate: …", 1-based).
type valueCheck func(p unsafe.Pointer, name string, item int, ve *ValidationError)

func report(ve *ValidationError, name string, item int, msg string) {
	msg = sentence(msg)
	if item >= 0 {
		msg = fmt.Sprintf("Item %d in the array did not validate: %s", item+1, msg)
	}
	ve.Add(name, msg)
}

// fieldChecker builds a field's check: nullness and blankness first (a failing one ends
// the field's checks, and a blank value with blank allowed needs no other check), then
// choices and every value constraint (for arrays: size, then each element), then named
// validators.
func fieldChecker(f *Field) fieldCheck {
	c := f.codec
	top := c
	for top.ptr {
		top = top.elem
	}
	check := valueChecker(f, top)
	if top.slice {
		et := top.elem
		inner := valueChecker(f, et)
		size := f.Size
		esize := et.typ.Size()
		nested := et.meta != nil || et.kind == fields.PolymorphicEmbeddedModelField ||
			(et.ptr && (et.elem.meta != nil || et.elem.kind == fields.PolymorphicEmbeddedModelField))
		check = nil
		if inner != nil || size > 0 {
			check = func(p unsafe.Pointer, name string, _ int, ve *ValidationError) {
				h := (*sliceHeader)(p)
				if size > 0 && h.Len > size {
					ve.Add(name, fmt.Sprintf("List contains %d items, it should contain no more than %d.", h.Len, size))
				}
				if inner == nil {
					return
				}
				for i := 0; i < h.Len; i++ {
					ep := unsafe.Add(h.Data, uintptr(i)*esize)
					if nested {
						inner(ep, name+"."+strconv.Itoa(i), -1, ve)
					} else {
						inner(ep, name, i, ve)
					}
				}
			}
		}
	}
	return func(p unsafe.Pointer, name string, ve *ValidationError) {
		q := p
		if c.ptr {
			q = ptrAt(p)
			if q == nil {
				if !f.Null {
					ve.Add(name, msgNull)
				}
				return
			}
		}
		if (top.isJSON || top.kind == fields.PolymorphicEmbeddedModelField) && top.isZero(q) {
			if !f.Null {
				ve.Add(name, msgNull)
			}
			return
		}
		if isBlank(top, q) {
			if !f.Blank {
				ve.Add(name, msgBlank)
			}
			return
		}
		if check != nil {
			check(q, name, -1, ve)
		}
		for _, v := range f.validators {
			if err := v(reflect.NewAt(top.typ, q).Elem().Interface()); err != nil {
				ve.Add(name, sentence(err.Error()))
			}
		}
	}
}

// isBlank reports Django's empty values: "", and empty slices, maps and JSON values.
func isBlank(c *codec, p unsafe.Pointer) bool {
	switch {
	case c.kind.IsString():
		return *(*string)(p) == ""
	case c.slice || c.kind == fields.BinaryField:
		return (*sliceHeader)(p).Len == 0
	case c.isJSON:
		var v any
		switch c.typ {
		case typeAny:
			v = *(*any)(p)
		case typeJSON:
			v = (*fields.JSON)(p).Value
		case typeMapAny:
			return len(*(*map[string]any)(p)) == 0
		case typeSliceAny:
			return len(*(*[]any)(p)) == 0
		}
		switch x := v.(type) {
		case string:
			return x == ""
		case map[string]any:
			return len(x) == 0
		case []any:
			return len(x) == 0
		case bson.D:
			return len(x) == 0
		case bson.A:
			return len(x) == 0
		}
	}
	return false
}

// valueChecker returns the checks of one (non-pointer) value, or nil when there are
// none: for an array field's elements, the same options apply to each element.
func valueChecker(f *Field, c *codec) valueCheck {
	if c.ptr { // a nil element of an array of pointers has nothing to check
		inner := valueChecker(f, c.elem)
		if inner == nil {
			return nil
		}
		return func(p unsafe.Pointer, name string, item int, ve *ValidationError) {
			if q := ptrAt(p); q != nil {
				inner(q, name, item, ve)
			}
		}
	}
	if c.slice {
		return nil // handled by fieldChecker (only the outer array has size/items)
	}
	if c.meta != nil {
		em := c.meta
		return func(p unsafe.Pointer, name string, _ int, ve *ValidationError) {
			em.validate(p, name+".", ve)
		}
	}
	if c.kind == fields.PolymorphicEmbeddedModelField {
		return func(p unsafe.Pointer, name string, _ int, ve *ValidationError) {
			v := (*fields.Polymorphic)(p).Value
			if v == nil {
				return
			}
			pm, q, err := polyTarget(v, c.poly)
			if err != nil {
				ve.Add(name, sentence(err.Error()))
				return
			}
			if q != nil {
				pm.validate(q, name+".", ve)
			}
		}
	}
	var checks []func(p unsafe.Pointer) string
	if f.choiceSet != nil && c.kind != fields.JSONField {
		typ := c.typ
		checks = append(checks, func(p unsafe.Pointer) string {
			v := reflect.NewAt(typ, p).Elem().Interface()
			if !f.choiceSet[choiceKey(v)] {
				if s, ok := choiceKey(v).(string); ok {
					return fmt.Sprintf("Value %q is not a valid choice.", s)
				}
				return fmt.Sprintf("Value %v is not a valid choice.", choiceKey(v))
			}
			return ""
		})
	}
	switch {
	case c.kind.IsString():
		if n := f.MaxLength; n > 0 {
			checks = append(checks, func(p unsafe.Pointer) string {
				s := *(*string)(p)
				if len(s) > n { // a rune is at least one byte: count only when it may matter
					if rc := utf8.RuneCountInString(s); rc > n {
						return fmt.Sprintf("Ensure this value has at most %d characters (it has %d).", n, rc)
					}
				}
				return ""
			})
		}
		var v func(string) error
		switch c.kind {
		case fields.EmailField:
			v = fields.ValidateEmail
		case fields.URLField:
			v = fields.ValidateURL
		case fields.SlugField:
			v = fields.ValidateSlug
		case fields.GenericIPAddressField:
			v = fields.ValidateIP
		}
		if v != nil {
			checks = append(checks, func(p unsafe.Pointer) string {
				if s := *(*string)(p); s != "" {
					if err := v(s); err != nil {
						return err.Error()
					}
				}
				return ""
			})
		}
	case c.kind == fields.BinaryField:
		if n := f.MaxLength; n > 0 {
			checks = append(checks, func(p unsafe.Pointer) string {
				if l := (*sliceHeader)(p).Len; l > n {
					return fmt.Sprintf("Ensure this value has at most %d bytes (it has %d).", n, l)
				}
				return ""
			})
		}
	case c.kind == fields.DateField:
		checks = append(checks, func(p unsafe.Pointer) string {
			if d := *(*fields.Date)(p); !d.IsValid() {
				return fmt.Sprintf("%04d-%02d-%02d is not a valid date.", d.Year, int(d.Month), d.Day)
			}
			return ""
		})
	case c.kind == fields.TimeField:
		checks = append(checks, func(p unsafe.Pointer) string {
			if t := *(*fields.TimeOfDay)(p); !t.IsValid() {
				return "not a valid time of day (it must lie in [00:00, 24:00))"
			}
			return ""
		})
	case c.kind == fields.DecimalField:
		if dc := decimalCheck(f, c); dc != nil {
			checks = append(checks, dc)
		}
	case c.kind.IsNumeric() || c.kind == fields.DurationField:
		if f.MinValue != nil || f.MaxValue != nil {
			read := numberReader(c)
			checks = append(checks, func(p unsafe.Pointer) string {
				return boundMessage(f, read(p))
			})
		}
	}
	if len(checks) == 0 {
		return nil
	}
	return func(p unsafe.Pointer, name string, item int, ve *ValidationError) {
		for _, ch := range checks {
			if msg := ch(p); msg != "" {
				report(ve, name, item, msg)
			}
		}
	}
}

// numberReader returns a reader of an integer, float or duration value as int64,
// float64 or time.Duration (the families bounds are parsed in).
func numberReader(c *codec) func(p unsafe.Pointer) any {
	if c.typ == typeDuration {
		return func(p unsafe.Pointer) any { return *(*time.Duration)(p) }
	}
	switch c.typ.Kind() {
	case reflect.Int8:
		return func(p unsafe.Pointer) any { return int64(*(*int8)(p)) }
	case reflect.Int16:
		return func(p unsafe.Pointer) any { return int64(*(*int16)(p)) }
	case reflect.Int32:
		return func(p unsafe.Pointer) any { return int64(*(*int32)(p)) }
	case reflect.Int64:
		return func(p unsafe.Pointer) any { return *(*int64)(p) }
	case reflect.Int:
		return func(p unsafe.Pointer) any { return int64(*(*int)(p)) }
	case reflect.Uint8:
		return func(p unsafe.Pointer) any { return int64(*(*uint8)(p)) }
	case reflect.Uint16:
		return func(p unsafe.Pointer) any { return int64(*(*uint16)(p)) }
	case reflect.Uint32:
		return func(p unsafe.Pointer) any { return int64(*(*uint32)(p)) }
	case reflect.Float32:
		return func(p unsafe.Pointer) any { return float64(*(*float32)(p)) }
	}
	return func(p unsafe.Pointer) any { return *(*float64)(p) }
}

func boundMessage(f *Field, v any) string {
	if x, ok := v.(float64); ok && x != x { // NaN is neither above nor below a bound
		if f.MinValue != nil || f.MaxValue != nil {
			return "NaN is outside the allowed range"
		}
	}
	if f.MinValue != nil && compareBound(v, f.MinValue) < 0 {
		return fmt.Sprintf("Ensure this value is greater than or equal to %v.", f.MinValue)
	}
	if f.MaxValue != nil && compareBound(v, f.MaxValue) > 0 {
		return fmt.Sprintf("Ensure this value is less than or equal to %v.", f.MaxValue)
	}
	return ""
}

// decimalCheck checks digits, decimal places and bounds of a decimal value.
func decimalCheck(f *Field, c *codec) func(p unsafe.Pointer) string {
	if f.MaxDigits == 0 && f.DecimalPlaces < 0 && f.MinValue == nil && f.MaxValue == nil {
		return nil
	}
	toAPD := func(p unsafe.Pointer, d *apd.Decimal) {
		if c.typ == typeAPD {
			d.Set((*apd.Decimal)(p))
			return
		}
		_ = decimal128ToAPD(*(*bson.Decimal128)(p), d)
	}
	return func(p unsafe.Pointer) string {
		var d apd.Decimal
		toAPD(p, &d)
		if d.Form != apd.Finite {
			return "enter a finite number (NaN and infinities are not allowed)"
		}
		if f.MaxDigits > 0 || f.DecimalPlaces >= 0 {
			digits, decimals := decimalDigits(&d)
			if f.MaxDigits > 0 && digits > int64(f.MaxDigits) {
				return fmt.Sprintf("Ensure that there are no more than %d digits in total.", f.MaxDigits)
			}
			if f.DecimalPlaces >= 0 && decimals > int64(f.DecimalPlaces) {
				return fmt.Sprintf("Ensure that there are no more than %d decimal places.", f.DecimalPlaces)
			}
			if f.MaxDigits > 0 && f.DecimalPlaces >= 0 && digits-decimals > int64(f.MaxDigits-f.DecimalPlaces) {
				return fmt.Sprintf("Ensure that there are no more than %d digits before the decimal point.", f.MaxDigits-f.DecimalPlaces)
			}
		}
		if f.MinValue != nil && d.Cmp(f.MinValue.(*apd.Decimal)) < 0 {
			return fmt.Sprintf("Ensure this value is greater than or equal to %v.", f.MinValue)
		}
		if f.MaxValue != nil && d.Cmp(f.MaxValue.(*apd.Decimal)) > 0 {
			return fmt.Sprintf("Ensure this value is less than or equal to %v.", f.MaxValue)
		}
		return ""
	}
}

// sentence turns a Go error message into a validation message in Django's style: a
// capitalised sentence ending with a full stop ("enter a valid URL" → "Enter a valid URL.").
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r, size := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[size:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
