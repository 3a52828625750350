package model

import (
	"bytes"
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// UniqueChecks returns the uniqueness rules obj must satisfy against other documents:
// one per unique field, UniqueConstraint and UniqueTogether group. As in Django, a rule
// is left out when one of its values is null (or absent), since NULLs never collide, and
// a conditional constraint is left out when obj itself does not match the condition.
// The primary key is not listed (_id is unique by itself). The caller excludes obj's own
// document (by _id) when it already exists.
func (m *Meta) UniqueChecks(obj any) []UniqueCheck {
	if m.Embedded {
		return nil
	}
	doc, err := m.Encode(obj)
	if err != nil {
		return nil
	}
	var out []UniqueCheck
	build := func(names []string, cond bson.D) {
		filter := make(bson.D, 0, len(names))
		for _, name := range names {
			_, path, err := resolvePath(m, name)
			if err != nil {
				return
			}
			v, err := doc.LookupErr(strings.Split(path, ".")...)
			if err != nil || v.Type == bson.TypeNull {
				return
			}
			filter = append(filter, bson.E{Key: path, Value: v})
		}
		if cond != nil && evalCondition(cond, doc) == condFalse {
			return
		}
		out = append(out, UniqueCheck{Fields: append([]string(nil), names...), Filter: filter, Condition: cond})
	}
	for _, f := range m.Fields {
		if f.Unique && !f.PrimaryKey {
			build([]string{f.Name}, nil)
		}
	}
	for _, c := range m.Options.Constraints {
		var uc UniqueConstraint
		switch x := c.(type) {
		case UniqueConstraint:
			uc = x
		case *UniqueConstraint:
			uc = *x
		default:
			continue
		}
		build(uc.Fields, uc.Condition)
	}
	for _, g := range m.Options.UniqueTogether {
		build(g, nil)
	}
	return out
}

// A condition is evaluated against the instance with a small subset of the query
// language; anything else is "unknown", which keeps the check (the database then
// applies the condition to the other documents).
type tri int8

const (
	condUnknown tri = iota
	condFalse
	condTrue
)

func triOf(b bool) tri {
	if b {
		return condTrue
	}
	return condFalse
}

func (t tri) not() tri {
	switch t {
	case condTrue:
		return condFalse
	case condFalse:
		return condTrue
	}
	return condUnknown
}

func evalCondition(cond bson.D, doc bson.Raw) tri {
	raw, err := bson.Marshal(cond)
	if err != nil {
		return condUnknown
	}
	return evalFilter(bson.Raw(raw), doc)
}

func evalFilter(filter, doc bson.Raw) tri {
	elems, err := filter.Elements()
	if err != nil {
		return condUnknown
	}
	res := condTrue
	for _, e := range elems {
		key, v := e.Key(), e.Value()
		var r tri
		switch key {
		case "$and", "$or", "$nor":
			arr, ok := v.ArrayOK()
			if !ok {
				return condUnknown
			}
			vals, err := arr.Values()
			if err != nil || len(vals) == 0 {
				return condUnknown
			}
			parts := make([]tri, 0, len(vals))
			for _, sub := range vals {
				d, ok := sub.DocumentOK()
				if !ok {
					return condUnknown
				}
				parts = append(parts, evalFilter(d, doc))
			}
			r = combine(key, parts)
		default:
			if strings.HasPrefix(key, "$") {
				return condUnknown
			}
			r = evalField(doc, key, v)
		}
		res = and(res, r)
	}
	return res
}

func and(a, b tri) tri {
	switch {
	case a == condFalse || b == condFalse:
		return condFalse
	case a == condTrue && b == condTrue:
		return condTrue
	}
	return condUnknown
}

func combine(op string, parts []tri) tri {
	anyTrue, anyUnknown := false, false
	all := condTrue
	for _, p := range parts {
		all = and(all, p)
		anyTrue = anyTrue || p == condTrue
		anyUnknown = anyUnknown || p == condUnknown
	}
	var or tri
	switch {
	case anyTrue:
		or = condTrue
	case anyUnknown:
		or = condUnknown
	default:
		or = condFalse
	}
	switch op {
	case "$and":
		return all
	case "$or":
		return or
	}
	return or.not()
}

func evalField(doc bson.Raw, path string, cond bson.RawValue) tri {
	val, err := doc.LookupErr(strings.Split(path, ".")...)
	present := err == nil
	if err != nil && !isNotFound(doc, path) {
		return condUnknown // e.g. the path crosses an array
	}
	if d, ok := cond.DocumentOK(); ok {
		elems, err := d.Elements()
		if err == nil && len(elems) > 0 && strings.HasPrefix(elems[0].Key(), "$") {
			res := condTrue
			for _, e := range elems {
				res = and(res, evalOperator(e.Key(), e.Value(), val, present))
			}
			return res
		}
	}
	return equals(val, present, cond)
}

// isNotFound reports whether a dotted path is absent without crossing an array (where
// MongoDB's matching would look inside every element).
func isNotFound(doc bson.Raw, path string) bool {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		v, err := cur.LookupErr(part)
		if err != nil {
			return true
		}
		switch v.Type {
		case bson.TypeEmbeddedDocument:
			cur = v.Document()
		case bson.TypeArray:
			return false
		default:
			return true
		}
	}
	return true
}

func evalOperator(op string, arg, val bson.RawValue, present bool) tri {
	switch op {
	case "$eq":
		return equals(val, present, arg)
	case "$ne":
		return equals(val, present, arg).not()
	case "$in", "$nin":
		arr, ok := arg.ArrayOK()
		if !ok {
			return condUnknown
		}
		vals, err := arr.Values()
		if err != nil {
			return condUnknown
		}
		res := condFalse
		for _, a := range vals {
			if a.Type == bson.TypeRegex {
				return condUnknown
			}
			r := equals(val, present, a)
			if r == condTrue {
				res = condTrue
				break
			}
			if r == condUnknown {
				res = condUnknown
			}
		}
		if op == "$nin" {
			return res.not()
		}
		return res
	case "$exists":
		want := arg.Type != bson.TypeNull && !(arg.Type == bson.TypeBoolean && !arg.Boolean()) &&
			!(arg.IsNumber() && numberIsZero(arg))
		return triOf(present == want)
	case "$gt", "$gte", "$lt", "$lte":
		if !present || val.Type == bson.TypeArray {
			return condUnknown
		}
		c, ok := compareValues(val, arg)
		if !ok {
			if sameClass(val, arg) {
				return condUnknown
			}
			return condFalse // comparisons only match values of the same type class
		}
		switch op {
		case "$gt":
			return triOf(c > 0)
		case "$gte":
			return triOf(c >= 0)
		case "$lt":
			return triOf(c < 0)
		}
		return triOf(c <= 0)
	}
	return condUnknown
}

func numberIsZero(v bson.RawValue) bool {
	switch v.Type {
	case bson.TypeInt32:
		return v.Int32() == 0
	case bson.TypeInt64:
		return v.Int64() == 0
	case bson.TypeDouble:
		return v.Double() == 0
	}
	return false
}

// equals is {path: value} matching: null matches a missing key; an array matches when
// it equals the value or one of its elements does.
func equals(val bson.RawValue, present bool, want bson.RawValue) tri {
	if !present {
		return triOf(want.Type == bson.TypeNull)
	}
	switch {
	case want.Type == bson.TypeRegex:
		return condUnknown
	case want.Type == bson.TypeEmbeddedDocument && val.Type == bson.TypeEmbeddedDocument:
		if bytes.Equal(val.Value, want.Value) {
			return condTrue
		}
		return condUnknown // equal documents may differ in bytes ({a: 1} and {a: 1.0})
	}
	if val.Type == bson.TypeArray {
		if want.Type == bson.TypeArray {
			if bytes.Equal(val.Value, want.Value) {
				return condTrue
			}
		}
		vals, err := val.Array().Values()
		if err != nil {
			return condUnknown
		}
		res := condFalse
		for _, e := range vals {
			switch scalarEqual(e, want) {
			case condTrue:
				return condTrue
			case condUnknown:
				res = condUnknown
			}
		}
		return res
	}
	return scalarEqual(val, want)
}

func scalarEqual(a, b bson.RawValue) tri {
	if c, ok := compareValues(a, b); ok {
		return triOf(c == 0)
	}
	if a.IsNumber() && b.IsNumber() {
		return condUnknown
	}
	if a.Type != b.Type {
		return condFalse
	}
	return triOf(bytes.Equal(a.Value, b.Value))
}

func sameClass(a, b bson.RawValue) bool {
	return a.Type == b.Type || a.IsNumber() && b.IsNumber()
}

// compareValues orders two values of the same type class it understands: numbers
// (int32, int64, double, decimal), strings (binary order), dates, booleans, ObjectIDs.
func compareValues(a, b bson.RawValue) (int, bool) {
	if a.IsNumber() && b.IsNumber() {
		x, okx := toDecimal(a)
		y, oky := toDecimal(b)
		if !okx || !oky {
			return 0, false
		}
		return x.Cmp(y), true
	}
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case bson.TypeString:
		return strings.Compare(a.StringValue(), b.StringValue()), true
	case bson.TypeDateTime:
		return cmp3(a.DateTime(), b.DateTime()), true
	case bson.TypeBoolean:
		x, y := a.Boolean(), b.Boolean()
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case bson.TypeObjectID:
		x, y := a.ObjectID(), b.ObjectID()
		return bytes.Compare(x[:], y[:]), true
	case bson.TypeNull:
		return 0, true
	}
	return 0, false
}

func toDecimal(v bson.RawValue) (*apd.Decimal, bool) {
	d := new(apd.Decimal)
	switch v.Type {
	case bson.TypeInt32:
		d.SetInt64(int64(v.Int32()))
	case bson.TypeInt64:
		d.SetInt64(v.Int64())
	case bson.TypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		if _, err := d.SetFloat64(f); err != nil {
			return nil, false
		}
	case bson.TypeDecimal128:
		if decimal128ToAPD(v.Decimal128(), d) != nil || d.Form != apd.Finite {
			return nil, false
		}
	default:
		return nil, false
	}
	return d, true
}
