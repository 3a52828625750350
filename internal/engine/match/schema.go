package match

import (
	"strconv"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/pcre"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// schema is a compiled $jsonSchema (MongoDB's JSON Schema draft 4 dialect, with bsonType).
// As in JSON Schema, a keyword only constrains values of the type it is about: minimum says
// nothing about strings, properties nothing about arrays. Values are never traversed as
// arrays are in queries.
type schema struct {
	// top marks the schema applied to the stored document itself (the $jsonSchema, and the
	// allOf/anyOf/oneOf/not/dependencies schemas nested directly in it): only its object
	// keywords and enum's documents can matter, since a stored document is always an object.
	top bool
	// never is set on a top-level schema that excludes objects: it matches no document.
	never bool

	types *typeLeaf // type or bsonType

	pattern              *pcre.Regexp
	minLength, maxLength int64 // -1 when absent
	multipleOf           *apd.Decimal
	minimum, maximum     *cmpLeaf

	minItems, maxItems int64 // -1 when absent
	uniqueItems        bool
	items              *schema   // items given as one schema
	tuple              []*schema // items given as an array of schemas
	hasTuple           bool
	additionalItems    *schema // for elements beyond the tuple
	noAdditionalItems  bool

	props              []property
	required           []string
	allowed            *allowedProps // patternProperties / additionalProperties
	minProps, maxProps int64         // -1 when absent
	deps               []dependency

	allOf, anyOf, oneOf []*schema
	not                 *schema
	enum                []any
	hasEnum             bool
}

type property struct {
	name string
	s    *schema
}

type patternSchema struct {
	re *pcre.Regexp
	s  *schema
}

// allowedProps constrains the fields not named by properties: those whose names match a
// pattern must satisfy its schema; the others must satisfy additionalProperties.
type allowedProps struct {
	names     map[string]struct{}
	patterns  []patternSchema
	otherwise *schema // nil: anything is allowed
	forbidden bool    // additionalProperties: false
}

// dependency: when field name is present, props must be present too, or the object must
// satisfy s.
type dependency struct {
	name  string
	props []string
	s     *schema
}

var schemaKeywords = map[string]bool{
	"additionalItems": true, "additionalProperties": true, "allOf": true, "anyOf": true,
	"bsonType": true, "dependencies": true, "description": true, "encrypt": true,
	"encryptMetadata": true, "enum": true, "exclusiveMaximum": true, "exclusiveMinimum": true,
	"items": true, "maxItems": true, "maxLength": true, "maxProperties": true, "maximum": true,
	"minItems": true, "minLength": true, "minProperties": true, "minimum": true,
	"multipleOf": true, "not": true, "oneOf": true, "pattern": true, "patternProperties": true,
	"properties": true, "required": true, "title": true, "type": true, "uniqueItems": true,
}

var unsupportedSchemaKeywords = map[string]bool{
	"$ref": true, "$schema": true, "default": true, "definitions": true, "format": true, "id": true,
}

func schemaErr(code int32, format string, args ...any) error {
	return mongoerr.Newf(code, format, args...)
}

// parseSchema compiles a $jsonSchema document, with mongod's validation errors.
func parseSchema(d bson.D, top bool) (*schema, error) {
	kw := make(map[string]any, len(d))
	for _, e := range d {
		if !schemaKeywords[e.Key] {
			if unsupportedSchemaKeywords[e.Key] {
				return nil, schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword '%s' is not currently supported", e.Key)
			}
			return nil, schemaErr(mongoerr.FailedToParse, "Unknown $jsonSchema keyword: %s", e.Key)
		}
		if _, dup := kw[e.Key]; dup {
			return nil, schemaErr(mongoerr.FailedToParse, "Duplicate $jsonSchema keyword: %s", e.Key)
		}
		kw[e.Key] = e.Value
	}
	for _, meta := range []string{"description", "title"} {
		if v, ok := kw[meta]; ok {
			if _, isString := v.(string); !isString {
				return nil, schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword '%s' must be of type string", meta)
			}
		}
	}
	s := &schema{top: top, minLength: -1, maxLength: -1, minItems: -1, maxItems: -1, minProps: -1, maxProps: -1}
	typeV, hasType := kw["type"]
	bsonTypeV, hasBSONType := kw["bsonType"]
	_, hasEncrypt := kw["encrypt"]
	switch {
	case hasType && hasBSONType:
		return nil, schemaErr(mongoerr.FailedToParse, "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'")
	case hasEncrypt && (hasType || hasBSONType):
		other := "type"
		if hasBSONType {
			other = "bsonType"
		}
		return nil, schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword 'encrypt' cannot be used in conjunction with '%s', 'encrypt' implies type 'bsonType::BinData'", other)
	case hasType:
		t, err := parseSchemaTypes("type", typeV, true)
		if err != nil {
			return nil, err
		}
		s.types = t
	case hasBSONType:
		t, err := parseSchemaTypes("bsonType", bsonTypeV, false)
		if err != nil {
			return nil, err
		}
		s.types = t
	}
	if err := s.parseScalarKeywords(kw); err != nil {
		return nil, err
	}
	if err := s.parseArrayKeywords(kw); err != nil {
		return nil, err
	}
	if _, ok := kw["encryptMetadata"]; ok || hasEncrypt {
		return nil, mongoerr.Newf(mongoerr.NotImplemented, "$jsonSchema keywords 'encrypt' and 'encryptMetadata' are not supported by mongotest")
	}
	if err := s.parseObjectKeywords(kw); err != nil {
		return nil, err
	}
	if err := s.parseLogicalKeywords(kw); err != nil {
		return nil, err
	}
	if top && s.types != nil && !s.types.has(bson.D{}) {
		s.never = true // stored documents are objects
	}
	return s, nil
}

// parseSchemaTypes compiles type (JSON type names) or bsonType (BSON type aliases).
func parseSchemaTypes(keyword string, v any, jsonTypes bool) (*typeLeaf, error) {
	var names []string
	switch x := v.(type) {
	case string:
		names = []string{x}
	case bson.A:
		seen := map[string]bool{}
		for _, item := range x {
			name, ok := item.(string)
			if !ok {
				return nil, schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword '%s' array elements must be strings", keyword)
			}
			if name == "integer" {
				return nil, schemaErr(mongoerr.FailedToParse, "$jsonSchema type 'integer' is not currently supported.")
			}
			if seen[name] {
				return nil, schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword '%s' has duplicate value: %s", keyword, name)
			}
			seen[name] = true
			names = append(names, name)
		}
	default:
		return nil, schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword '%s' must be either a string or an array of strings", keyword)
	}
	t := &typeLeaf{}
	for _, name := range names {
		if name == "integer" {
			return nil, schemaErr(mongoerr.FailedToParse, "$jsonSchema type 'integer' is not currently supported.")
		}
		if name == "number" {
			t.addNumbers()
			continue
		}
		var n int32
		ok := false
		if jsonTypes {
			n, ok = map[string]int32{
				"array": value.TypeArray, "boolean": value.TypeBool, "null": value.TypeNull,
				"object": value.TypeObject, "string": value.TypeString,
			}[name]
		} else {
			n, ok = value.TypeNumberOf(name)
		}
		if !ok {
			return nil, badValue("Unknown type name alias: %s", name)
		}
		t.add(n)
	}
	if t.empty() {
		return nil, schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword '%s' must name at least one type", keyword)
	}
	return t, nil
}

// nonNegativeLong parses a count keyword (minLength, maxItems, …).
func nonNegativeLong(keyword string, v any) (int64, error) {
	n, err := integerArg(keyword, v)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, schemaErr(mongoerr.FailedToParse, "Expected a non-negative number in: %s", value.FormatElem(keyword, v))
	}
	return n, nil
}

func (s *schema) parseScalarKeywords(kw map[string]any) error {
	if v, ok := kw["pattern"]; ok {
		str, isString := v.(string)
		if !isString {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'pattern' must be a string")
		}
		// mongod drops scalar keywords of a top-level schema before compiling the pattern.
		if !s.top {
			re, err := compileRegex(str, "")
			if err != nil {
				return err
			}
			s.pattern = re
		}
	}
	for _, k := range []string{"maxLength", "minLength"} {
		if v, ok := kw[k]; ok {
			n, err := nonNegativeLong(k, v)
			if err != nil {
				return err
			}
			if k == "maxLength" {
				s.maxLength = n
			} else {
				s.minLength = n
			}
		}
	}
	if v, ok := kw["multipleOf"]; ok {
		if !value.IsNumber(v) {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'multipleOf' must be a number")
		}
		d := numberDecimal(v)
		if d.Negative || d.IsZero() {
			return schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword 'multipleOf' must have a positive value")
		}
		s.multipleOf = d
	}
	for _, bound := range []struct {
		key, exclusive string
		incl, excl     int
		dst            **cmpLeaf
	}{
		{"maximum", "exclusiveMaximum", opLTE, opLT, &s.maximum},
		{"minimum", "exclusiveMinimum", opGTE, opGT, &s.minimum},
	} {
		v, ok := kw[bound.key]
		if !ok {
			if _, hasExcl := kw[bound.exclusive]; hasExcl {
				return schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword '%s' must be a present if %s is present", bound.key, bound.exclusive)
			}
			continue
		}
		op := bound.incl
		if ex, hasExcl := kw[bound.exclusive]; hasExcl {
			b, isBool := ex.(bool)
			if !isBool {
				return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword '%s' must be a boolean", bound.exclusive)
			}
			if b {
				op = bound.excl
			}
		}
		if !value.IsNumber(v) {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword '%s' must be a number", bound.key)
		}
		*bound.dst = newCmpLeaf(op, v)
	}
	return nil
}

func (s *schema) parseArrayKeywords(kw map[string]any) error {
	for _, k := range []string{"minItems", "maxItems"} {
		if v, ok := kw[k]; ok {
			n, err := nonNegativeLong(k, v)
			if err != nil {
				return err
			}
			if k == "minItems" {
				s.minItems = n
			} else {
				s.maxItems = n
			}
		}
	}
	if v, ok := kw["uniqueItems"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'uniqueItems' must be a boolean")
		}
		s.uniqueItems = b
	}
	if v, ok := kw["items"]; ok {
		switch x := v.(type) {
		case bson.D:
			sub, err := parseSchema(x, false)
			if err != nil {
				return err
			}
			s.items = sub
		case bson.A:
			s.hasTuple = true
			for _, item := range x {
				d, isDoc := item.(bson.D)
				if !isDoc {
					return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'items' requires that each element of the array is an object, but found a %s", value.TypeName(item))
				}
				sub, err := parseSchema(d, false)
				if err != nil {
					return err
				}
				s.tuple = append(s.tuple, sub)
			}
		default:
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'items' must be an array or an object, not %s", value.TypeName(v))
		}
	}
	if v, ok := kw["additionalItems"]; ok {
		var extra *schema
		forbid := false
		switch x := v.(type) {
		case bool:
			forbid = !x
		case bson.D:
			sub, err := parseSchema(x, false)
			if err != nil {
				return err
			}
			extra = sub
		default:
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'additionalItems' must be either an object or a boolean, but got a %s", value.TypeName(v))
		}
		// additionalItems only means something after an items array.
		if s.hasTuple {
			s.additionalItems, s.noAdditionalItems = extra, forbid
		}
	}
	return nil
}

func (s *schema) parseObjectKeywords(kw map[string]any) error {
	required := map[string]bool{}
	if v, ok := kw["required"]; ok {
		arr, isArray := v.(bson.A)
		if !isArray {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'required' must be an array, but found an element of type %s", value.TypeName(v))
		}
		for _, item := range arr {
			name, isString := item.(string)
			if !isString {
				return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'required' must be an array of strings, but found an element of type: %s", value.TypeName(item))
			}
			if required[name] {
				return schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword 'required' array cannot contain duplicate values")
			}
			required[name] = true
			s.required = append(s.required, name)
		}
		if len(arr) == 0 {
			return schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword 'required' cannot be an empty array")
		}
	}
	var names map[string]struct{}
	if v, ok := kw["properties"]; ok {
		props, isDoc := v.(bson.D)
		if !isDoc {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'properties' must be an object")
		}
		names = make(map[string]struct{}, len(props))
		for _, p := range props {
			d, isDoc := p.Value.(bson.D)
			if !isDoc {
				return schemaErr(mongoerr.TypeMismatch, "Nested schema for $jsonSchema property '%s' must be an object", p.Key)
			}
			sub, err := parseSchema(d, false)
			if err != nil {
				return err
			}
			s.props = append(s.props, property{name: p.Key, s: sub})
			names[p.Key] = struct{}{}
		}
	}
	patternV, hasPatterns := kw["patternProperties"]
	additionalV, hasAdditional := kw["additionalProperties"]
	if hasPatterns || hasAdditional {
		a := &allowedProps{names: names}
		if hasPatterns {
			pats, isDoc := patternV.(bson.D)
			if !isDoc {
				return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'patternProperties' must be an object")
			}
			for _, p := range pats {
				d, isDoc := p.Value.(bson.D)
				if !isDoc {
					return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'patternProperties' has property '%s' which is not an object", p.Key)
				}
				sub, err := parseSchema(d, false)
				if err != nil {
					return err
				}
				re, err := compileRegex(p.Key, "")
				if err != nil {
					return err
				}
				a.patterns = append(a.patterns, patternSchema{re: re, s: sub})
			}
		}
		if hasAdditional {
			switch x := additionalV.(type) {
			case bool:
				a.forbidden = !x
			case bson.D:
				sub, err := parseSchema(x, false)
				if err != nil {
					return err
				}
				a.otherwise = sub
			default:
				return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'additionalProperties' must be an object or a boolean")
			}
		}
		s.allowed = a
	}
	for _, k := range []string{"minProperties", "maxProperties"} {
		if v, ok := kw[k]; ok {
			n, err := nonNegativeLong(k, v)
			if err != nil {
				return err
			}
			if k == "minProperties" {
				s.minProps = n
			} else {
				s.maxProps = n
			}
		}
	}
	if v, ok := kw["dependencies"]; ok {
		deps, isDoc := v.(bson.D)
		if !isDoc {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'dependencies' must be an object")
		}
		for _, dep := range deps {
			switch x := dep.Value.(type) {
			case bson.D:
				sub, err := parseSchema(x, s.top)
				if err != nil {
					return err
				}
				s.deps = append(s.deps, dependency{name: dep.Key, s: sub})
			case bson.A:
				if len(x) == 0 {
					return schemaErr(mongoerr.FailedToParse, "property '%s' in $jsonSchema keyword 'dependencies' cannot be an empty array", dep.Key)
				}
				seen := map[string]bool{}
				var props []string
				for _, item := range x {
					name, isString := item.(string)
					if !isString {
						return schemaErr(mongoerr.TypeMismatch, "array '%s' in $jsonSchema keyword 'dependencies' can only contain strings, but found element of type: %s", dep.Key, value.TypeName(item))
					}
					if seen[name] {
						return schemaErr(mongoerr.FailedToParse, "array '%s' in $jsonSchema keyword 'dependencies' contains duplicate element: %s", dep.Key, name)
					}
					seen[name] = true
					props = append(props, name)
				}
				s.deps = append(s.deps, dependency{name: dep.Key, props: props})
			case string:
				if dep.Key == "title" || dep.Key == "description" {
					continue // annotations are allowed here
				}
				return schemaErr(mongoerr.TypeMismatch, "property '%s' in $jsonSchema keyword 'dependencies' must be either an object or an array", dep.Key)
			default:
				return schemaErr(mongoerr.TypeMismatch, "property '%s' in $jsonSchema keyword 'dependencies' must be either an object or an array", dep.Key)
			}
		}
	}
	return nil
}

func (s *schema) parseLogicalKeywords(kw map[string]any) error {
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		v, ok := kw[k]
		if !ok {
			continue
		}
		arr, isArray := v.(bson.A)
		if !isArray {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword '%s' must be an array", k)
		}
		if len(arr) == 0 {
			return badValue("$jsonSchema keyword '%s' must be a non-empty array", k)
		}
		subs := make([]*schema, 0, len(arr))
		for _, item := range arr {
			d, isDoc := item.(bson.D)
			if !isDoc {
				return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword '%s' must be an array of objects, but found an element of type %s", k, value.TypeName(item))
			}
			sub, err := parseSchema(d, s.top)
			if err != nil {
				return err
			}
			subs = append(subs, sub)
		}
		switch k {
		case "allOf":
			s.allOf = subs
		case "anyOf":
			s.anyOf = subs
		default:
			s.oneOf = subs
		}
	}
	if v, ok := kw["not"]; ok {
		d, isDoc := v.(bson.D)
		if !isDoc {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'not' must be an object, but found an element of type %s", value.TypeName(v))
		}
		sub, err := parseSchema(d, s.top)
		if err != nil {
			return err
		}
		s.not = sub
	}
	if v, ok := kw["enum"]; ok {
		arr, isArray := v.(bson.A)
		if !isArray {
			return schemaErr(mongoerr.TypeMismatch, "$jsonSchema keyword 'enum' must be an array, but found an element of type %s", value.TypeName(v))
		}
		if len(arr) == 0 {
			return schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword 'enum' cannot be an empty array")
		}
		for i, item := range arr {
			for _, prev := range arr[:i] {
				if equalUnordered(item, prev) {
					return schemaErr(mongoerr.FailedToParse, "$jsonSchema keyword 'enum' array cannot contain duplicate values.")
				}
			}
			// A top-level schema matches documents: only its enum's documents can match.
			if _, isDoc := item.(bson.D); isDoc || !s.top {
				s.enum = append(s.enum, item)
			}
		}
		s.hasEnum = true
		if s.top && len(s.enum) == 0 {
			s.never = true
		}
	}
	return nil
}

// numberDecimal converts a number as mongod's BSONElement::numberDecimal does: doubles keep
// 15 significant digits, so 0.3 is a multiple of 0.1.
func numberDecimal(v any) *apd.Decimal {
	if f, ok := v.(float64); ok {
		d, err := value.ToDecimal(f)
		if err == nil && d.Form == apd.Finite {
			if _, _, err := d.SetString(strconv.FormatFloat(f, 'e', 14, 64)); err == nil {
				return d
			}
		}
		return d
	}
	d, err := value.ToDecimal(v)
	if err != nil {
		return apd.New(0, 0)
	}
	return d
}

// matches applies s to a value (for a top-level schema, to a stored document).
func (s *schema) matches(v any) bool {
	if s.top {
		d, ok := v.(bson.D)
		return ok && s.matchTop(d)
	}
	return s.matchValue(v)
}

// matchTop applies a top-level schema to a stored document.
func (s *schema) matchTop(doc bson.D) bool {
	if s.never || !s.matchObject(doc) || !s.matchLogical(doc) {
		return false
	}
	return !s.hasEnum || s.matchEnum(doc)
}

// matchValue applies a nested schema to a value that is present.
func (s *schema) matchValue(v any) bool {
	if s.types != nil && !s.types.has(v) {
		return false
	}
	switch x := v.(type) {
	case string:
		if s.pattern != nil && !s.pattern.MatchString(x) {
			return false
		}
		if s.minLength >= 0 || s.maxLength >= 0 {
			n := int64(utf8.RuneCountInString(x))
			if s.minLength >= 0 && n < s.minLength || s.maxLength >= 0 && n > s.maxLength {
				return false
			}
		}
	case int32, int64, float64, bson.Decimal128:
		if s.minimum != nil {
			if ok, _ := s.minimum.test(v); !ok {
				return false
			}
		}
		if s.maximum != nil {
			if ok, _ := s.maximum.test(v); !ok {
				return false
			}
		}
		if s.multipleOf != nil && !isMultiple(v, s.multipleOf) {
			return false
		}
	case bson.A:
		if !s.matchArray(x) {
			return false
		}
	case bson.D:
		if !s.matchObject(x) {
			return false
		}
	}
	if !s.matchLogical(v) {
		return false
	}
	return !s.hasEnum || s.matchEnum(v)
}

func isMultiple(v any, of *apd.Decimal) bool {
	var r apd.Decimal
	cond, err := value.DecimalContext.Rem(&r, numberDecimal(v), of)
	if err != nil || cond&(apd.InvalidOperation|apd.DivisionImpossible|apd.DivisionByZero|apd.DivisionUndefined) != 0 {
		return false
	}
	return r.Form == apd.Finite && r.IsZero()
}

func (s *schema) matchArray(arr bson.A) bool {
	n := int64(len(arr))
	if s.minItems >= 0 && n < s.minItems || s.maxItems >= 0 && n > s.maxItems {
		return false
	}
	if s.uniqueItems {
		for i := range arr {
			for j := 0; j < i; j++ {
				if equalUnordered(arr[i], arr[j]) {
					return false
				}
			}
		}
	}
	if s.items != nil {
		for _, e := range arr {
			if !s.items.matchValue(e) {
				return false
			}
		}
	}
	if s.hasTuple {
		for i, e := range arr {
			switch {
			case i < len(s.tuple):
				if !s.tuple[i].matchValue(e) {
					return false
				}
			case s.noAdditionalItems:
				return false
			case s.additionalItems != nil:
				if !s.additionalItems.matchValue(e) {
					return false
				}
			}
		}
	}
	return true
}

func (s *schema) matchObject(d bson.D) bool {
	for _, p := range s.props {
		if v, ok := value.Lookup(d, p.name); ok && !p.s.matchValue(v) {
			return false
		}
	}
	for _, name := range s.required {
		if _, ok := value.Lookup(d, name); !ok {
			return false
		}
	}
	if a := s.allowed; a != nil {
		for _, f := range d {
			_, named := a.names[f.Key]
			for _, pp := range a.patterns {
				if pp.re.MatchString(f.Key) {
					named = true
					if !pp.s.matchValue(f.Value) {
						return false
					}
				}
			}
			if !named && (a.forbidden || a.otherwise != nil && !a.otherwise.matchValue(f.Value)) {
				return false
			}
		}
	}
	n := int64(len(d))
	if s.minProps >= 0 && n < s.minProps || s.maxProps >= 0 && n > s.maxProps {
		return false
	}
	for _, dep := range s.deps {
		if _, ok := value.Lookup(d, dep.name); !ok {
			continue
		}
		for _, name := range dep.props {
			if _, ok := value.Lookup(d, name); !ok {
				return false
			}
		}
		if dep.s != nil && !dep.s.matches(d) {
			return false
		}
	}
	return true
}

func (s *schema) matchLogical(v any) bool {
	for _, sub := range s.allOf {
		if !sub.matches(v) {
			return false
		}
	}
	if len(s.anyOf) > 0 {
		found := false
		for _, sub := range s.anyOf {
			if sub.matches(v) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(s.oneOf) > 0 {
		count := 0
		for _, sub := range s.oneOf {
			if sub.matches(v) {
				count++
			}
		}
		if count != 1 {
			return false
		}
	}
	return s.not == nil || !s.not.matches(v)
}

func (s *schema) matchEnum(v any) bool {
	for _, e := range s.enum {
		if equalUnordered(v, e) {
			return true
		}
	}
	return false
}

// equalUnordered is BSON equality ignoring the order of fields in documents, as $jsonSchema's
// enum and uniqueItems compare.
func equalUnordered(a, b any) bool {
	switch x := a.(type) {
	case bson.D:
		y, ok := b.(bson.D)
		if !ok || len(x) != len(y) {
			return false
		}
		for _, e := range x {
			v, found := value.Lookup(y, e.Key)
			if !found || !equalUnordered(e.Value, v) {
				return false
			}
		}
		return true
	case bson.A:
		y, ok := b.(bson.A)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalUnordered(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return value.Compare(a, b) == 0
}
