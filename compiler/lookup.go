package compiler

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// lookupOp is a Django lookup.
type lookupOp uint8

// The lookups, in the order error messages list them.
const (
	opExact lookupOp = iota + 1
	opIExact
	opContains
	opIContains
	opIn
	opGt
	opGte
	opLt
	opLte
	opStartsWith
	opIStartsWith
	opEndsWith
	opIEndsWith
	opRange
	opIsNull
	opRegex
	opIRegex
	opCount
)

var lookupNames = [opCount]string{"", "exact", "iexact", "contains", "icontains", "in", "gt", "gte", "lt", "lte",
	"startswith", "istartswith", "endswith", "iendswith", "range", "isnull", "regex", "iregex"}

// String returns the lookup's name.
func (op lookupOp) String() string {
	if op < opCount {
		return lookupNames[op]
	}
	return fmt.Sprintf("lookup(%d)", int(op))
}

func (op lookupOp) bit() uint32 { return 1 << op }

// lookupByName returns the lookup with the given name, or 0.
func lookupByName(name string) lookupOp {
	for op := opExact; op < opCount; op++ {
		if lookupNames[op] == name {
			return op
		}
	}
	return 0
}

// comparison operators of the ordered lookups.
var compareOps = [opCount]string{opExact: "$eq", opGt: "$gt", opGte: "$gte", opLt: "$lt", opLte: "$lte"}

// Lookup sets by kind.
const (
	lkNull    = uint32(1) << opIsNull
	lkEqual   = 1<<opExact | 1<<opIn | lkNull
	lkOrdered = lkEqual | 1<<opGt | 1<<opGte | 1<<opLt | 1<<opLte | 1<<opRange
	lkText    = lkOrdered | 1<<opIExact | 1<<opContains | 1<<opIContains | 1<<opStartsWith | 1<<opIStartsWith |
		1<<opEndsWith | 1<<opIEndsWith | 1<<opRegex | 1<<opIRegex
	lkDocument = 1<<opExact | lkNull
)

// lookupsOf returns the lookups allowed on a target, following Django: text lookups on
// text, comparisons on ordered values, equality on the rest, isnull everywhere.
func lookupsOf(t *target) uint32 {
	k := t.kind
	switch {
	case k.IsString():
		return lkText
	case k.IsNumeric(), k.IsTemporal(), k == fields.DurationField, k == fields.ObjectIdAutoField, k == fields.ObjectIdField:
		return lkOrdered
	case k == fields.BooleanField, k == fields.UUIDField, k == fields.BinaryField, k == fields.CompositePrimaryKey:
		return lkEqual
	case k == fields.JSONField, k.IsArray(), k.IsEmbedded():
		return lkDocument
	}
	return lkNull
}

// errorf reports a problem with a lookup's value, naming the model and the key.
func (t *target) errorf(format string, args ...any) error {
	return fmt.Errorf("modjo: %s: filter %q: %s", t.field.Meta.Name, t.key, fmt.Sprintf(format, args...))
}

// wrap adds the key to a conversion error.
func (t *target) wrap(err error) error {
	return fmt.Errorf("%w (in filter %q)", err, t.key)
}

// splitValue separates a constant from an expression: Value(x) is the constant x, any
// other expression node is returned as the node.
func splitValue(v any) (any, expr.Node) {
	switch x := v.(type) {
	case expr.Expr:
		if c, ok := x.Node.(expr.Constant); ok {
			return c.Value, nil
		}
		if x.Node == nil {
			return nil, x // the zero Expr: compiling it reports the mistake
		}
		return nil, x.Node
	case expr.Constant:
		return x.Value, nil
	case expr.Node:
		return nil, x
	}
	return v, nil
}

// lookupDoc compiles one Q entry, key → value, to a filter document.
func lookupDoc(m *model.Meta, key string, raw any) (bson.D, error) {
	t, err := parseKey(m, key, true)
	if err != nil {
		return nil, err
	}
	val, node := splitValue(raw)
	val = deref(val)
	if node == nil && isNil(val) {
		switch t.lookup {
		case opExact, opIExact:
			return nullDoc(&t, true), nil // Django: exact=None is isnull=True
		case opIsNull:
			return nil, t.errorf("isnull wants true or false, not nil")
		}
		return nil, t.errorf("nil cannot be used as a query value for the %s lookup (use isnull)", t.lookup)
	}
	if t.lookup == opIsNull {
		b, ok := val.(bool)
		if !ok || node != nil {
			return nil, t.errorf("isnull wants true or false, got %T", raw)
		}
		return nullDoc(&t, b), nil
	}
	if node != nil || hasExpressions(val) {
		return exprLookup(m, &t, node, val)
	}
	if t.ntrans == 1 {
		if b := t.trans[0].bucket; b != nil {
			if fn := b(t.field.Kind); fn != nil {
				return bucketLookup(&t, fn, val)
			}
		}
	}
	if t.ntrans > 0 {
		return exprLookup(m, &t, nil, val)
	}
	return plainLookup(&t, val)
}

// hasExpressions reports a list (for in and range) holding expressions.
func hasExpressions(v any) bool {
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			if _, n := splitValue(x); n != nil {
				return true
			}
		}
		return false
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); (k != reflect.Slice && k != reflect.Array) || !rv.Type().Elem().Implements(nodeType) {
		return false
	}
	for i := 0; i < rv.Len(); i++ {
		if _, n := splitValue(rv.Index(i).Interface()); n != nil {
			return true
		}
	}
	return false
}

var nodeType = reflect.TypeFor[expr.Node]()

// deref follows a non-nil pointer to the value it holds: Go's way to pass an optional
// value (a nil pointer is NULL).
func deref(v any) any {
	switch v.(type) {
	case string, int, int32, int64, float64, bool, nil:
		return v
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		return v
	}
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Pointer {
		return nil // a chain ending in a nil pointer is NULL
	}
	return rv.Interface()
}

// nullDoc is the isnull test. A missing key and BSON null are both NULL, except in a
// JSONField, where a stored null is JSON null (a value) and only a missing key is NULL.
func nullDoc(t *target, null bool) bson.D {
	if t.field.Kind == fields.JSONField && t.ntrans == 0 {
		return bson.D{{Key: t.stored, Value: bson.D{{Key: "$exists", Value: !null}}}}
	}
	if null {
		return bson.D{{Key: t.stored, Value: nil}}
	}
	return bson.D{{Key: t.stored, Value: bson.D{{Key: "$ne", Value: nil}}}}
}

// eqDoc is an equality on a stored path; documents, arrays and regexes go through $eq so
// that they are compared as values, never read as operators or patterns.
func eqDoc(path string, v any) bson.D {
	if isDocLike(v) {
		return bson.D{{Key: path, Value: bson.D{{Key: "$eq", Value: v}}}}
	}
	return bson.D{{Key: path, Value: v}}
}

// opDoc is {path: {op: v}}. Both documents share one backing array: filters are built
// for every query, so allocations count.
func opDoc(path, op string, v any) bson.D {
	e := make([]bson.E, 2)
	e[1] = bson.E{Key: op, Value: v}
	e[0] = bson.E{Key: path, Value: bson.D(e[1:2:2])}
	return e[0:1:1]
}

// opDoc2 is {path: {op1: v1, op2: v2}}, in one allocation.
func opDoc2(path, op1 string, v1 any, op2 string, v2 any) bson.D {
	e := make([]bson.E, 3)
	e[1] = bson.E{Key: op1, Value: v1}
	e[2] = bson.E{Key: op2, Value: v2}
	e[0] = bson.E{Key: path, Value: bson.D(e[1:3:3])}
	return e[0:1:1]
}

// plainLookup compiles a lookup on a stored field against a constant to query
// operators.
func plainLookup(t *target, val any) (bson.D, error) {
	f, p := t.field, t.stored
	switch t.lookup {
	case opExact:
		if f.Kind == fields.JSONField {
			// JSON null is spelled the same for every Go type of JSONField, even
			// map[string]any, which cannot hold it.
			switch x := val.(type) {
			case fields.JSONNullValue:
				return opDoc(p, "$type", "null"), nil
			case fields.JSON:
				if x.Value == nil && x.Null {
					return opDoc(p, "$type", "null"), nil
				}
				if x.Value != nil {
					val = x.Value
				}
			}
		}
		v, err := fieldValue(f, val)
		if err != nil {
			return nil, t.wrap(err)
		}
		if f.Kind == fields.JSONField {
			switch v {
			case model.Unset:
				return nullDoc(t, true), nil
			case nil: // JSON null, not a missing key
				return opDoc(p, "$type", "null"), nil
			}
		}
		return eqDoc(p, v), nil
	case opGt, opGte, opLt, opLte:
		v, err := fieldValue(f, val)
		if err != nil {
			return nil, t.wrap(err)
		}
		return opDoc(p, compareOps[t.lookup], v), nil
	case opIn:
		vals, err := t.list(val, -1)
		if err != nil {
			return nil, err
		}
		arr := make(bson.A, 0, len(vals))
		for _, x := range vals {
			if isNil(x) {
				continue // Django drops None: NULL is never equal to anything
			}
			v, err := fieldValue(f, x)
			if err != nil {
				return nil, t.wrap(err)
			}
			arr = append(arr, v)
		}
		return opDoc(p, "$in", arr), nil
	case opRange:
		vals, err := t.list(val, 2)
		if err != nil {
			return nil, err
		}
		lo, err := fieldValue(f, vals[0])
		if err != nil {
			return nil, t.wrap(err)
		}
		hi, err := fieldValue(f, vals[1])
		if err != nil {
			return nil, t.wrap(err)
		}
		return opDoc2(p, "$gte", lo, "$lte", hi), nil
	case opRegex, opIRegex:
		s, err := textValue(val)
		if err != nil {
			return nil, t.errorf("%v", err)
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, t.errorf("a regular expression cannot contain a NUL byte")
		}
		return regexDoc(p, s, t.lookup == opIRegex), nil
	case opIExact, opContains, opIContains, opStartsWith, opIStartsWith, opEndsWith, opIEndsWith:
		s, err := textValue(val)
		if err != nil {
			return nil, t.errorf("%v", err)
		}
		q, err := escapeRegex(s)
		if err != nil {
			return nil, t.errorf("%v", err)
		}
		var pat string
		switch t.lookup {
		case opIExact:
			pat = "^" + q + `\z`
		case opContains, opIContains:
			pat = q
		case opStartsWith, opIStartsWith:
			pat = "^" + q
		default:
			pat = q + `\z` // \z: $ would also match before a final newline
		}
		insensitive := t.lookup == opIExact || t.lookup == opIContains || t.lookup == opIStartsWith || t.lookup == opIEndsWith
		return regexDoc(p, pat, insensitive), nil
	}
	return nil, t.errorf("the %s lookup is not available here", t.lookup)
}

func regexDoc(path, pattern string, insensitive bool) bson.D {
	if insensitive {
		return opDoc2(path, "$regex", pattern, "$options", "i")
	}
	return opDoc(path, "$regex", pattern)
}

// list reads the values of an in or range lookup: any slice or array (n < 0), or
// exactly n values. Value(x) elements are unwrapped to x; other expressions are kept.
func (t *target) list(val any, n int) ([]any, error) {
	xs, ok := val.([]any)
	if !ok {
		rv := reflect.ValueOf(val)
		if k := rv.Kind(); k != reflect.Slice && k != reflect.Array {
			return nil, t.errorf("want a list of values, got a %T", val)
		}
		// A []byte or [16]byte is one value of a binary or UUID field, not a list of bytes.
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return nil, t.errorf("want a list of values, got a %T (one value)", val)
		}
		xs = make([]any, rv.Len())
		for i := range xs {
			xs[i] = rv.Index(i).Interface()
		}
	} else {
		xs = slices.Clone(xs)
	}
	if n >= 0 && len(xs) != n {
		return nil, t.errorf("want %d values, got %d", n, len(xs))
	}
	for i, x := range xs {
		if v, node := splitValue(x); node == nil {
			xs[i] = deref(v)
		}
	}
	return xs, nil
}

// bucketLookup rewrites a monotonic transform (year, iso_year, date, hour of a time)
// compared with constants into ranges on the stored value: year=2020 becomes
// {$gte: 2020-01-01, $lt: 2021-01-01}.
func bucketLookup(t *target, bucket func(any) (any, any, error), val any) (bson.D, error) {
	p := t.stored
	one := func(v any) (lo, hi any, err error) {
		if lo, hi, err = bucket(v); err != nil {
			err = t.errorf("%v", err)
		}
		return lo, hi, err
	}
	switch t.lookup {
	case opExact, opGt, opGte, opLt, opLte:
		lo, hi, err := one(val)
		if err != nil {
			return nil, err
		}
		switch t.lookup {
		case opGt:
			return opDoc(p, "$gte", hi), nil
		case opGte:
			return opDoc(p, "$gte", lo), nil
		case opLt:
			return opDoc(p, "$lt", lo), nil
		case opLte:
			return opDoc(p, "$lt", hi), nil
		}
		return opDoc2(p, "$gte", lo, "$lt", hi), nil
	case opRange:
		vals, err := t.list(val, 2)
		if err != nil {
			return nil, err
		}
		lo, _, err := one(vals[0])
		if err != nil {
			return nil, err
		}
		_, hi, err := one(vals[1])
		if err != nil {
			return nil, err
		}
		return opDoc2(p, "$gte", lo, "$lt", hi), nil
	case opIn:
		vals, err := t.list(val, -1)
		if err != nil {
			return nil, err
		}
		var docs bson.A
		for _, v := range vals {
			if isNil(v) {
				continue
			}
			lo, hi, err := one(v)
			if err != nil {
				return nil, err
			}
			docs = append(docs, opDoc2(p, "$gte", lo, "$lt", hi))
		}
		switch len(docs) {
		case 0:
			return opDoc(p, "$in", bson.A{}), nil
		case 1:
			return docs[0].(bson.D), nil
		}
		return bson.D{{Key: "$or", Value: docs}}, nil
	}
	return nil, t.errorf("the %s lookup is not available here", t.lookup)
}

// exprLookup compiles a lookup that needs an aggregation expression: a side is an
// expression, or a transform has no range form. Every stored field the comparison reads
// gets a {$ne: null} guard, because in expressions null compares below everything,
// while in SQL a comparison with NULL is never true.
func exprLookup(m *model.Meta, t *target, node expr.Node, val any) (bson.D, error) {
	ec := exprCompiler{m: m}
	lhs := ec.targetExpr(t)
	rhs := func(n expr.Node, v any) (any, error) {
		if n != nil {
			o, err := ec.compile(n)
			if err != nil {
				return nil, err
			}
			return o.v, nil
		}
		var x any
		var err error
		if t.ntrans == 0 {
			x, err = fieldValue(t.field, v)
		} else {
			x, err = kindValue(t.kind, v)
			if err != nil {
				err = t.errorf("%v", err)
			}
		}
		if err != nil {
			return nil, t.wrap(err)
		}
		return literal(x), nil
	}
	var cond any
	switch t.lookup {
	case opExact, opGt, opGte, opLt, opLte:
		r, err := rhs(node, val)
		if err != nil {
			return nil, err
		}
		cond = bson.D{{Key: compareOps[t.lookup], Value: bson.A{lhs, r}}}
	case opIn, opRange:
		if node != nil {
			return nil, t.errorf("the %s lookup wants a list of values, not the expression %s", t.lookup, expr.Describe(node))
		}
		n := -1
		if t.lookup == opRange {
			n = 2
		}
		vals, err := t.list(val, n)
		if err != nil {
			return nil, err
		}
		arr := make(bson.A, 0, len(vals))
		for _, x := range vals {
			v, n := splitValue(x)
			if n == nil && isNil(v) {
				if t.lookup == opRange {
					return nil, t.errorf("nil cannot be a bound of range")
				}
				continue
			}
			r, err := rhs(n, v)
			if err != nil {
				return nil, err
			}
			arr = append(arr, r)
		}
		if t.lookup == opIn {
			cond = bson.D{{Key: "$in", Value: bson.A{lhs, arr}}}
		} else {
			cond = bson.D{{Key: "$and", Value: bson.A{
				bson.D{{Key: "$gte", Value: bson.A{lhs, arr[0]}}},
				bson.D{{Key: "$lte", Value: bson.A{lhs, arr[1]}}},
			}}}
		}
	default:
		return nil, fmt.Errorf("%w: %s: filter %q: the %s lookup with an expression value", model.ErrNotSupported, m.Name, t.key, t.lookup)
	}
	return ec.guarded(cond), nil
}
