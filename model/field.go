package model

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// tagSpec is a field tag's options after syntax checks, before they meet the Go type.
type tagSpec struct {
	null, blank, unique, index, pk, autoNow, autoNowAdd bool
	editable                                            *bool
	str, strOpt                                         string // email/url/slug/ip: kind name, option name
	maxLength, maxDigits, size                          int
	decimalPlaces                                       int
	minRaw, maxRaw, defaultRaw, choicesRaw              *string
	validators, types                                   []string
	dbColumn, verbose, help                             string
	given                                               map[string]bool
}

func flagValue(o tagOption) (bool, error) {
	if !o.hasValue {
		return true, nil
	}
	v, err := unquote(o.raw)
	if err != nil {
		return false, err
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("option %s: want true or false, got %q", o.name, v)
	}
	return b, nil
}

func needValue(o tagOption) (string, error) {
	if !o.hasValue {
		return "", fmt.Errorf("option %s needs a value (%s=…)", o.name, o.name)
	}
	return unquote(o.raw)
}

func intValue(o tagOption, min int) (int, error) {
	v, err := needValue(o)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > math.MaxInt32 {
		return 0, fmt.Errorf("option %s: want an integer ≥ %d, got %q", o.name, min, v)
	}
	return n, nil
}

// parseSpec checks every option's syntax and collects the options.
func parseSpec(tag string) (*tagSpec, error) {
	opts, err := parseTag(tag)
	if err != nil {
		return nil, err
	}
	s := &tagSpec{decimalPlaces: -1, given: map[string]bool{}}
	for _, o := range opts {
		s.given[o.name] = true
		var err error
		switch o.name {
		case "null":
			s.null, err = flagValue(o)
		case "blank":
			s.blank, err = flagValue(o)
		case "unique":
			s.unique, err = flagValue(o)
		case "index":
			s.index, err = flagValue(o)
		case "primary_key":
			s.pk, err = flagValue(o)
		case "auto_now":
			s.autoNow, err = flagValue(o)
		case "auto_now_add":
			s.autoNowAdd, err = flagValue(o)
		case "editable":
			var v bool
			if !o.hasValue {
				err = errors.New("option editable needs a value (editable=false)")
				break
			}
			v, err = flagValue(o)
			s.editable = &v
		case "email", "url", "slug", "ip":
			var on bool
			if on, err = flagValue(o); err == nil && on {
				if s.str != "" {
					err = fmt.Errorf("options %s and %s exclude each other", s.strOpt, o.name)
					break
				}
				s.strOpt = o.name
				s.str = map[string]string{"email": "EmailField", "url": "URLField", "slug": "SlugField", "ip": "GenericIPAddressField"}[o.name]
			}
		case "max_length":
			s.maxLength, err = intValue(o, 1)
		case "max_digits":
			s.maxDigits, err = intValue(o, 1)
		case "decimal_places":
			s.decimalPlaces, err = intValue(o, 0)
		case "size":
			s.size, err = intValue(o, 1)
		case "min_value", "max_value", "default", "choices":
			if !o.hasValue {
				err = fmt.Errorf("option %s needs a value (%s=…)", o.name, o.name)
				break
			}
			raw := o.raw
			switch o.name {
			case "min_value":
				s.minRaw = &raw
			case "max_value":
				s.maxRaw = &raw
			case "default":
				s.defaultRaw = &raw
			default:
				s.choicesRaw = &raw
			}
		case "validators", "types":
			if !o.hasValue {
				err = fmt.Errorf("option %s needs a value (%s=a|b)", o.name, o.name)
				break
			}
			var items []string
			if items, err = listItems(o.raw, "|,"); err != nil {
				break
			}
			for _, it := range items {
				if it == "" {
					err = fmt.Errorf("option %s: empty name in the list", o.name)
					break
				}
			}
			if o.name == "validators" {
				s.validators = items
			} else {
				s.types = items
			}
		case "db_column":
			if s.dbColumn, err = needValue(o); err == nil && (!validColumn(s.dbColumn) || s.dbColumn == "_id") {
				err = fmt.Errorf("db_column %q is not a valid stored key (not empty, no '.', no '$' first, not _id)", s.dbColumn)
			}
		case "verbose_name":
			s.verbose, err = needValue(o)
		case "help_text":
			s.help, err = needValue(o)
		default:
			err = fmt.Errorf("unknown tag option %q", o.name)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// field builds a Field from a Go struct field.
func (b *builder) field(m *Meta, rf rawField) (*Field, error) {
	sf := rf.sf
	f := &Field{Meta: m, GoName: sf.Name, Name: snakeCase(sf.Name), Type: sf.Type, Index: rf.index, off: rf.off,
		Editable: true, DecimalPlaces: -1}
	if rf.idOf {
		f.Name, f.Column, f.Path = "id", "_id", "_id"
		f.Kind, f.PrimaryKey, f.Unique, f.Editable, f.VerboseName = fields.ObjectIdAutoField, true, true, false, "ID"
		f.codec = objectIDCodec(sf.Type)
		return f, nil
	}
	if err := b.applyTag(f, sf.Tag.Get("modjo")); err != nil {
		var inner *RegistrationError
		if errors.As(err, &inner) { // a mistake inside an embedded model: name that model
			return nil, inner
		}
		return nil, &RegistrationError{Model: m.Name, Field: sf.Name, Err: err}
	}
	return f, nil
}

// applyTag gives f its codec, kind and options from its Go type and tag. Errors are
// plain; the caller names the model and field.
func (b *builder) applyTag(f *Field, tag string) error {
	if !validLookupName(f.Name) {
		return fmt.Errorf("lookup name %q is not usable (no \"__\", no '.', not \"pk\")", f.Name)
	}
	s, err := parseSpec(tag)
	if err != nil {
		return err
	}
	c, err := b.codecFor(f, f.Type, s.types, 0)
	if err != nil {
		return err
	}
	f.codec = c
	top := c
	for top.ptr {
		top = top.elem
	}
	et := top // the element the value options apply to
	for et.slice || et.ptr {
		et = et.elem
	}
	if len(s.types) > 0 && et.kind != fields.PolymorphicEmbeddedModelField {
		return errors.New("types= is only for fields.Polymorphic")
	}
	f.Column, f.Path = f.Name, f.Name
	if s.dbColumn != "" {
		f.Column, f.Path, f.dbColumn = s.dbColumn, s.dbColumn, true
	}
	f.VerboseName = verboseName(f.Name)
	if s.verbose != "" {
		f.VerboseName = s.verbose
	}
	f.HelpText = s.help
	f.Kind = top.kind
	if top.slice {
		f.ElemKind = et.kind
		f.Many = top.kind != fields.ArrayField
	}
	f.Embedded = et.meta // embedded model of the field, or of its (pointer) elements
	embeddedOwner := f.Meta.Embedded
	bad := func(opt string) error {
		return fmt.Errorf("option %s is not valid for a %s (%s)", opt, describeKind(f), f.Type)
	}

	// Nullability: pointers are nullable; null is otherwise only for JSON and
	// polymorphic fields, whose Go values have a nil of their own.
	f.Null = c.ptr
	if s.null {
		if !c.ptr && !top.isJSON && top.kind != fields.PolymorphicEmbeddedModelField {
			return fmt.Errorf("null needs a pointer type (*%s): pointer types are nullable", f.Type)
		}
		f.Null = true
	}
	f.Blank = s.blank

	// String kinds: the email/url/slug/ip options and max_length refine TextField.
	if et.kind == fields.TextField {
		k := fields.TextField
		switch {
		case s.str == "EmailField":
			k = fields.EmailField
		case s.str == "URLField":
			k = fields.URLField
		case s.str == "SlugField":
			k = fields.SlugField
		case s.str == "GenericIPAddressField":
			k = fields.GenericIPAddressField
		case s.maxLength > 0:
			k = fields.CharField
		}
		et.kind = k
		if top == et {
			f.Kind = k
		} else {
			f.ElemKind = k
		}
		// Django's default lengths for the specialised string fields.
		f.MaxLength = map[fields.Kind]int{fields.EmailField: 254, fields.URLField: 200, fields.SlugField: 50, fields.GenericIPAddressField: 39}[k]
	} else if s.str != "" {
		return bad(s.strOpt)
	}
	if s.maxLength > 0 {
		if !et.kind.IsString() && et.kind != fields.BinaryField {
			return bad("max_length")
		}
		f.MaxLength = s.maxLength
	}
	// Numbers.
	isNum := et.kind.IsNumeric() || et.kind == fields.DurationField
	if s.minRaw != nil || s.maxRaw != nil {
		if !isNum || et.kind.IsAuto() {
			if s.minRaw != nil {
				return bad("min_value")
			}
			return bad("max_value")
		}
		if s.minRaw != nil {
			if f.MinValue, err = parseBound(et, *s.minRaw); err != nil {
				return fmt.Errorf("min_value: %w", err)
			}
		}
		if s.maxRaw != nil {
			if f.MaxValue, err = parseBound(et, *s.maxRaw); err != nil {
				return fmt.Errorf("max_value: %w", err)
			}
		}
		if f.MinValue != nil && f.MaxValue != nil && compareBound(f.MinValue, f.MaxValue) > 0 {
			return errors.New("min_value is greater than max_value")
		}
	}
	if f.MinValue != nil && compareBound(f.MinValue, int64(0)) >= 0 {
		pos := map[fields.Kind]fields.Kind{fields.SmallIntegerField: fields.PositiveSmallIntegerField,
			fields.IntegerField: fields.PositiveIntegerField, fields.BigIntegerField: fields.PositiveBigIntegerField}
		if k, ok := pos[et.kind]; ok {
			if top == et {
				f.Kind = k
			} else {
				f.ElemKind = k
			}
		}
	}
	if s.given["max_digits"] || s.given["decimal_places"] {
		if et.kind != fields.DecimalField {
			if s.given["max_digits"] {
				return bad("max_digits")
			}
			return bad("decimal_places")
		}
		f.MaxDigits, f.DecimalPlaces = s.maxDigits, s.decimalPlaces
		if f.MaxDigits > 0 && f.DecimalPlaces > f.MaxDigits {
			return errors.New("decimal_places is greater than max_digits")
		}
	}
	if s.size > 0 {
		if !top.slice {
			return bad("size")
		}
		f.Size = s.size
	}
	if s.choicesRaw != nil {
		if err := parseChoices(f, et, *s.choicesRaw); err != nil {
			return err
		}
	}
	for _, name := range s.validators {
		v, ok := fields.LookupValidator(name)
		if !ok {
			return fmt.Errorf("unknown validator %q (register it with fields.RegisterValidator)", name)
		}
		f.Validators = append(f.Validators, name)
		f.validators = append(f.validators, v)
	}
	// Times.
	if s.autoNow || s.autoNowAdd {
		opt := "auto_now"
		if !s.autoNow {
			opt = "auto_now_add"
		}
		if top.slice || !top.kind.IsTemporal() {
			return bad(opt)
		}
		if s.autoNow && s.autoNowAdd {
			return errors.New("auto_now and auto_now_add exclude each other")
		}
		if s.defaultRaw != nil {
			return fmt.Errorf("%s and default exclude each other", opt)
		}
		f.AutoNow, f.AutoNowAdd = s.autoNow, s.autoNowAdd
		f.Editable, f.Blank = false, true
	}
	if s.editable != nil {
		f.Editable = *s.editable && !f.AutoNow && !f.AutoNowAdd
	}
	// Keys and indexes.
	if embeddedOwner && (s.unique || s.index || s.pk) {
		opt := "unique"
		if s.index {
			opt = "index"
		}
		if s.pk {
			opt = "primary_key"
		}
		return fmt.Errorf("option %s is not valid in an embedded model: declare the index on the model that stores it, with a dotted path", opt)
	}
	f.Unique, f.DBIndex = s.unique, s.index
	if s.pk {
		if c.ptr {
			return errors.New("a primary key cannot be null (drop the pointer)")
		}
		switch {
		case top.slice, top.isJSON, top.meta != nil, top.kind == fields.PolymorphicEmbeddedModelField:
			return fmt.Errorf("a %s cannot be a primary key", describeKind(f))
		}
		f.PrimaryKey, f.Unique = true, true
		switch {
		case top.kind.IsInteger():
			f.Auto = true
			switch top.stored {
			case tInt32:
				f.Kind = fields.AutoField
				if r := f.Type.Kind(); r == reflect.Int8 || r == reflect.Int16 || r == reflect.Uint8 || r == reflect.Uint16 {
					f.Kind = fields.SmallAutoField
				}
			default:
				f.Kind = fields.BigAutoField
			}
		case top.kind == fields.ObjectIdField:
			f.Kind = fields.ObjectIdAutoField
		}
	}
	if s.defaultRaw != nil {
		if err := parseDefault(f, c, *s.defaultRaw); err != nil {
			return fmt.Errorf("default: %w", err)
		}
	}
	return nil
}

func describeKind(f *Field) string {
	if f.Kind.IsArray() && f.ElemKind != 0 && f.Kind == fields.ArrayField {
		return "ArrayField of " + f.ElemKind.String()
	}
	if f.Kind == 0 {
		return "field"
	}
	return f.Kind.String()
}

// codecFor builds the codec of a Go type.
func (b *builder) codecFor(f *Field, t reflect.Type, types []string, depth int) (*codec, error) {
	if depth > 32 {
		return nil, fmt.Errorf("type %s nests too deeply", t)
	}
	if t.Kind() == reflect.Pointer {
		et := t.Elem()
		switch {
		case et.Kind() == reflect.Pointer:
			return nil, fmt.Errorf("pointer to pointer %s is not supported", t)
		case et == typeAny || et == typeMapAny || et == typeJSON || et == typeSliceAny || et == typePoly:
			return nil, fmt.Errorf("%s is nullable already; use %s without the pointer", et, et)
		}
		ec, err := b.codecFor(f, et, types, depth+1)
		if err != nil {
			return nil, err
		}
		return ptrCodec(t, ec), nil
	}
	switch t {
	case typeTime:
		return timeCodec(t), nil
	case typeDuration:
		return int64Codec(t, fields.DurationField, nil), nil
	case typeDate:
		return dateCodec(t), nil
	case typeTimeOfDay:
		return int64Codec(t, fields.TimeField, func(x int64) bool { return fields.TimeOfDay(x).IsValid() }), nil
	case typeObjectID:
		return objectIDCodec(t), nil
	case typeDecimal:
		return decimal128Codec(t), nil
	case typeAPD:
		return apdCodec(t), nil
	case typeAny, typeMapAny, typeJSON, typeSliceAny:
		return jsonCodecs(t), nil
	case typePoly:
		if len(types) == 0 {
			return nil, errors.New("a fields.Polymorphic field needs types=A|B naming its embedded models")
		}
		c := &codec{}
		polyCodec(t, c)
		b.polys = append(b.polys, pendingPoly{m: f.Meta, f: f, c: c, names: types})
		return c, nil
	}
	switch t.Kind() {
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Len() == 16 {
			return uuidCodec(t), nil
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return bytesCodec(t), nil
		}
		ec, err := b.codecFor(f, t.Elem(), types, depth+1)
		if err != nil {
			return nil, err
		}
		if ec.isJSON && ec.typ == typeSliceAny {
			return nil, fmt.Errorf("%s: use []any (a JSONField) or a typed slice", t)
		}
		return sliceCodec(t, ec), nil
	case reflect.Struct:
		if isEmbeddedStruct(t) {
			m, err := b.embeddedMeta(t)
			if err != nil {
				return nil, err
			}
			return embeddedCodec(t, m), nil
		}
		if isModelStruct(t) {
			return nil, fmt.Errorf("%w: a model (%s) cannot be stored inside another; relation fields come later, or embed model.Embedded instead of model.Model", ErrNotSupported, t)
		}
		return nil, fmt.Errorf("struct type %s is not a field kind: embed model.Embedded in it to store it as a sub-document", t)
	case reflect.String:
		return stringCodec(t), nil
	case reflect.Bool:
		return boolCodec(t), nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return integerCodec(t), nil
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return nil, fmt.Errorf("%s cannot be stored: BSON has no unsigned 64-bit integer (use int64)", t)
	case reflect.Float32, reflect.Float64:
		return floatCodec(t), nil
	case reflect.Map:
		return nil, fmt.Errorf("%s is not a field kind: a JSONField is map[string]any", t)
	case reflect.Interface:
		return nil, fmt.Errorf("interface %s is not a field kind: a JSONField is any", t)
	}
	return nil, fmt.Errorf("unsupported Go type %s", t)
}

// parseScalar parses tag text as a value of the codec's (non-pointer) type.
func parseScalar(c *codec, text string) (reflect.Value, error) {
	t := c.typ
	switch {
	case c.kind.IsString() || c.kind == fields.TextField:
		return reflect.ValueOf(text).Convert(t), nil
	case t == typeDuration:
		d, err := time.ParseDuration(text)
		if err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(d), nil
	case t == typeTime:
		tm, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("want an RFC 3339 time or now, got %q", text)
		}
		return reflect.ValueOf(truncTime(tm)), nil
	case t == typeDate:
		d, err := fields.ParseDate(text)
		return reflect.ValueOf(d), err
	case t == typeTimeOfDay:
		d, err := fields.ParseTimeOfDay(text)
		return reflect.ValueOf(d), err
	case t == typeObjectID:
		id, err := bson.ObjectIDFromHex(text)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("want 24 hex digits or new, got %q", text)
		}
		return reflect.ValueOf(id), nil
	case t == typeDecimal:
		d, err := bson.ParseDecimal128(text)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("invalid decimal %q", text)
		}
		return reflect.ValueOf(d), nil
	case t == typeAPD:
		d, _, err := apd.NewFromString(text)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("invalid decimal %q", text)
		}
		if _, err := apdToDecimal128(d); err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(*d), nil
	case c.kind == fields.UUIDField:
		u, err := parseUUID(text)
		if err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(u).Convert(t), nil
	}
	switch t.Kind() {
	case reflect.Bool:
		v, err := strconv.ParseBool(text)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("want true or false, got %q", text)
		}
		return reflect.ValueOf(v).Convert(t), nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || reflect.Zero(t).OverflowInt(n) {
			return reflect.Value{}, fmt.Errorf("want an integer that fits %s, got %q", t, text)
		}
		return reflect.ValueOf(n).Convert(t), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil || reflect.Zero(t).OverflowUint(n) {
			return reflect.Value{}, fmt.Errorf("want an integer that fits %s, got %q", t, text)
		}
		return reflect.ValueOf(n).Convert(t), nil
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(text, t.Bits())
		if err != nil {
			return reflect.Value{}, fmt.Errorf("want a number, got %q", text)
		}
		return reflect.ValueOf(x).Convert(t), nil
	}
	return reflect.Value{}, fmt.Errorf("not supported for %s", t)
}

func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 || (len(s) != 32 && len(s) != 36) {
		return u, fmt.Errorf("want a UUID (8-4-4-4-12 hex digits) or new, got %q", s)
	}
	if len(s) == 36 && (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
		return u, fmt.Errorf("want a UUID (8-4-4-4-12 hex digits) or new, got %q", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("want a UUID (8-4-4-4-12 hex digits) or new, got %q", s)
	}
	return u, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() [16]byte {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails on supported platforms
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// parseBound parses min_value/max_value for the element codec's kind.
func parseBound(c *codec, raw string) (any, error) {
	text, err := unquote(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case c.typ == typeDuration:
		return time.ParseDuration(text)
	case c.kind == fields.DecimalField:
		d, _, err := apd.NewFromString(text)
		if err != nil || d.Form != apd.Finite {
			return nil, fmt.Errorf("want a finite decimal, got %q", text)
		}
		return d, nil
	case c.kind == fields.FloatField:
		x, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(x) {
			return nil, fmt.Errorf("want a number, got %q", text)
		}
		return x, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("want an integer, got %q", text)
	}
	return n, nil
}

// compareBound compares two bounds (or a bound and a value) of the same family.
func compareBound(a, b any) int {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmp3(x, y)
		case float64:
			return cmpFloat(float64(x), y)
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return cmpFloat(x, y)
		case int64:
			return cmpFloat(x, float64(y))
		}
	case time.Duration:
		switch y := b.(type) {
		case time.Duration:
			return cmp3(x, y)
		case int64:
			return cmp3(int64(x), y)
		}
	case *apd.Decimal:
		switch y := b.(type) {
		case *apd.Decimal:
			return x.Cmp(y)
		case int64:
			return x.Cmp(apd.New(y, 0))
		}
	}
	return 0
}

func cmp3[T int64 | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// choiceKey maps a value to the comparable key choices are stored under: string,
// int64, float64, bool, or a decimal's reduced text.
func choiceKey(v any) any {
	switch x := v.(type) {
	case bson.Decimal128:
		var d apd.Decimal
		if decimal128ToAPD(x, &d) == nil {
			return reducedDecimal(&d)
		}
		return x.String()
	case apd.Decimal:
		return reducedDecimal(&x)
	case *apd.Decimal:
		if x == nil {
			return nil
		}
		return reducedDecimal(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Bool:
		return rv.Bool()
	}
	return v
}

func reducedDecimal(d *apd.Decimal) string {
	var r apd.Decimal
	r.Reduce(d)
	return r.Text('f')
}

func parseChoices(f *Field, et *codec, raw string) error {
	switch {
	case et.kind.IsString(), et.kind.IsInteger(), et.kind == fields.FloatField, et.kind == fields.DecimalField, et.kind == fields.BooleanField:
	default:
		return fmt.Errorf("option choices is not valid for a %s", describeKind(f))
	}
	f.choiceSet = map[any]bool{}
	for _, item := range splitRaw(raw, "|") {
		vRaw, lRaw, hasLabel := cutRaw(item, ':')
		text, err := unquote(vRaw)
		if err != nil {
			return fmt.Errorf("choices: %w", err)
		}
		label := text
		if hasLabel {
			if label, err = unquote(lRaw); err != nil {
				return fmt.Errorf("choices: %w", err)
			}
		}
		v, err := parseScalar(et, text)
		if err != nil {
			return fmt.Errorf("choices: %w", err)
		}
		key := choiceKey(v.Interface())
		if f.choiceSet[key] {
			return fmt.Errorf("choices: value %q is listed twice", text)
		}
		f.choiceSet[key] = true
		f.Choices = append(f.Choices, fields.Choice{Value: key, Label: label})
	}
	return nil
}

// parseDefault sets the field's default from default= text.
func parseDefault(f *Field, c *codec, raw string) error {
	top := c
	for top.ptr {
		top = top.elem
	}
	static := func(v reflect.Value) {
		f.Default, f.HasDefault = v.Interface(), true
		f.defaultFn = func(time.Time) reflect.Value { return v }
	}
	dynamic := func(fn func(now time.Time) reflect.Value) {
		f.HasDefault = true
		f.defaultFn = fn
		f.Default = DefaultFunc(func(now time.Time) any { return fn(now).Interface() })
	}
	if top.isJSON {
		text, err := unquote(raw)
		if err != nil {
			return err
		}
		return jsonDefault(top.typ, text, dynamic)
	}
	if top.slice {
		et := top.elem
		if et.ptr || et.slice || et.meta != nil || et.kind == fields.PolymorphicEmbeddedModelField || et.isJSON {
			return fmt.Errorf("not supported for a %s", describeKind(f))
		}
		var elems []reflect.Value
		if strings.TrimSpace(raw) != "" {
			items, err := listItems(raw, "|")
			if err != nil {
				return err
			}
			for _, it := range items {
				v, err := parseScalar(et, it)
				if err != nil {
					return err
				}
				elems = append(elems, v)
			}
		}
		dynamic(func(time.Time) reflect.Value {
			s := reflect.MakeSlice(top.typ, len(elems), len(elems))
			for i, e := range elems {
				s.Index(i).Set(e)
			}
			return s
		})
		return nil
	}
	text, err := unquote(raw)
	if err != nil {
		return err
	}
	switch {
	case top.meta != nil || top.kind == fields.PolymorphicEmbeddedModelField || top.kind == fields.BinaryField:
		return fmt.Errorf("not supported for a %s", describeKind(f))
	case text == "now" && (top.typ == typeTime || top.typ == typeDate || top.typ == typeTimeOfDay),
		text == "today" && top.typ == typeDate:
		dynamic(func(now time.Time) reflect.Value {
			switch top.typ {
			case typeDate:
				return reflect.ValueOf(fields.DateOf(now))
			case typeTimeOfDay:
				return reflect.ValueOf(fields.TimeOfDayOf(now))
			}
			return reflect.ValueOf(now)
		})
		return nil
	case text == "new" && top.kind == fields.UUIDField:
		dynamic(func(time.Time) reflect.Value { return reflect.ValueOf(newUUID()).Convert(top.typ) })
		return nil
	case text == "new" && top.typ == typeObjectID:
		dynamic(func(time.Time) reflect.Value { return reflect.ValueOf(bson.NewObjectID()) })
		return nil
	}
	v, err := parseScalar(top, text)
	if err != nil {
		return err
	}
	static(v)
	return nil
}

// jsonDefault parses a JSON text default; each save gets a fresh copy so instances never
// share mutable maps or slices.
func jsonDefault(t reflect.Type, text string, dynamic func(func(time.Time) reflect.Value)) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("want JSON, got %q", text)
	}
	if dec.More() {
		return fmt.Errorf("want one JSON value, got %q", text)
	}
	v = jsonNumbers(v)
	switch t {
	case typeMapAny:
		if _, ok := v.(map[string]any); !ok {
			return fmt.Errorf("a map[string]any default must be a JSON object, got %q", text)
		}
	case typeSliceAny:
		if _, ok := v.([]any); !ok {
			return fmt.Errorf("a []any default must be a JSON array, got %q", text)
		}
	}
	dynamic(func(time.Time) reflect.Value {
		x := deepCopyJSON(v)
		switch t {
		case typeJSON:
			if x == nil {
				return reflect.ValueOf(fields.JSON{Null: true})
			}
			return reflect.ValueOf(fields.JSON{Value: x})
		case typeAny:
			if x == nil {
				return reflect.ValueOf(&fields.JSONNull).Elem().Convert(typeAny)
			}
			return reflect.ValueOf(&x).Elem()
		}
		return reflect.ValueOf(x)
	})
	return nil
}

// jsonNumbers turns json.Numbers into int32, int64 or float64.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				return int32(n)
			}
			return n
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = jsonNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonNumbers(e)
		}
	}
	return v
}

func deepCopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopyJSON(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopyJSON(e)
		}
		return a
	}
	return v
}
