package compiler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FilterDoc compiles a condition to a query filter, for find, update, delete and
// findAndModify. A nil condition (or one made only of empty Qs) gives an empty filter
// that matches every document.
func FilterDoc(m *model.Meta, where expr.Condition) (bson.D, error) {
	if m == nil {
		return nil, errNoMeta
	}
	d, ok, err := condDoc(m, where)
	if err != nil {
		return nil, err
	}
	if !ok {
		return bson.D{}, nil
	}
	return d, nil
}

// matchNothing is the filter of QuerySet.None(): no document has an _id in an empty
// list, and the _id index answers it without a scan.
func matchNothing() bson.D { return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}} }

// condDoc compiles a condition. ok is false for "no condition" (nil, an empty Q, or a
// junction of those), which Django drops rather than treating as true or false.
func condDoc(m *model.Meta, c expr.Condition) (bson.D, bool, error) {
	switch x := c.(type) {
	case nil:
		return nil, false, nil
	case expr.Q:
		return qDoc(m, x)
	case expr.Junction:
		var buf [4]bson.D
		docs := buf[:0]
		for _, child := range x.Children {
			d, ok, err := condDoc(m, child)
			if err != nil {
				return nil, false, err
			}
			if ok {
				docs = append(docs, d)
			}
		}
		switch {
		case len(docs) == 0:
			return nil, false, nil
		case len(docs) == 1:
			return docs[0], true, nil
		case x.Or:
			return orDoc(docs), true, nil
		}
		return andDoc(docs), true, nil
	case expr.Negation:
		d, ok, err := condDoc(m, x.Child)
		if err != nil || !ok {
			return nil, ok, err
		}
		// Not(a OR b) is $nor of a and b; anything else is $nor of the one positive form.
		if len(d) == 1 && d[0].Key == "$or" {
			return bson.D{{Key: "$nor", Value: d[0].Value}}, true, nil
		}
		return bson.D{{Key: "$nor", Value: bson.A{d}}}, true, nil
	}
	return nil, false, fmt.Errorf("%w: %s: the condition type %T", model.ErrNotSupported, m.Name, c)
}

// qDoc compiles the lookups of a Q, in sorted key order.
func qDoc(m *model.Meta, q expr.Q) (bson.D, bool, error) {
	switch len(q) {
	case 0:
		return nil, false, nil
	case 1:
		for k, v := range q {
			d, err := lookupDoc(m, k, v)
			return d, err == nil, err
		}
	}
	var buf [8]string
	keys := buf[:0]
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var dbuf [8]bson.D
	docs := dbuf[:0]
	for _, k := range keys {
		d, err := lookupDoc(m, k, q[k])
		if err != nil {
			return nil, false, err
		}
		docs = append(docs, d)
	}
	return andDoc(docs), true, nil
}

// andDoc combines conjuncts: one document when their keys are distinct, else $and (the
// same field twice, two $expr, …). Nested $and lists are spliced in.
func andDoc(docs []bson.D) bson.D {
	n, nested := 0, false
	for _, d := range docs {
		if len(d) == 1 && d[0].Key == "$and" {
			nested = true
		}
		n += len(d)
	}
	if nested {
		var flat []bson.D
		for _, d := range docs {
			if len(d) == 1 && d[0].Key == "$and" {
				for _, x := range d[0].Value.(bson.A) {
					flat = append(flat, x.(bson.D))
				}
				continue
			}
			flat = append(flat, d)
		}
		docs = flat
	}
	if !nested && distinctKeys(docs) {
		out := make(bson.D, 0, n)
		for _, d := range docs {
			out = append(out, d...)
		}
		return out
	}
	arr := make(bson.A, len(docs))
	for i, d := range docs {
		arr[i] = d
	}
	return bson.D{{Key: "$and", Value: arr}}
}

// orDoc combines disjuncts into $or, splicing nested $or lists.
func orDoc(docs []bson.D) bson.D {
	arr := make(bson.A, 0, len(docs))
	for _, d := range docs {
		if len(d) == 1 && d[0].Key == "$or" {
			arr = append(arr, d[0].Value.(bson.A)...)
			continue
		}
		arr = append(arr, d)
	}
	return bson.D{{Key: "$or", Value: arr}}
}

// distinctKeys reports whether no key appears in two documents (or twice in one).
func distinctKeys(docs []bson.D) bool {
	for i, d := range docs {
		for j, e := range d {
			for _, x := range d[j+1:] {
				if x.Key == e.Key {
					return false
				}
			}
			for _, other := range docs[i+1:] {
				for _, x := range other {
					if x.Key == e.Key {
						return false
					}
				}
			}
		}
	}
	return true
}

// Equalities returns the exact-equality lookups of a condition as stored path → stored
// value, for the seed of an upsert (GetOrCreate, UpdateOrCreate). The condition must be
// a Q, or an AND of Qs, holding only exact lookups (no transforms) with constant, non-nil
// values on distinct, non-overlapping paths; otherwise ok is false. A nil condition gives
// an empty document.
func Equalities(m *model.Meta, where expr.Condition) (bson.D, bool) {
	if m == nil {
		return nil, false
	}
	out := bson.D{}
	if !equalities(m, where, &out) {
		return nil, false
	}
	for i, a := range out {
		for _, b := range out[i+1:] {
			if a.Key == b.Key || strings.HasPrefix(b.Key, a.Key+".") || strings.HasPrefix(a.Key, b.Key+".") {
				return nil, false
			}
		}
	}
	return out, true
}

func equalities(m *model.Meta, c expr.Condition, out *bson.D) bool {
	switch x := c.(type) {
	case nil:
		return true
	case expr.Q:
		for _, k := range x.Keys() {
			t, err := parseKey(m, k, true)
			if err != nil || t.lookup != opExact || t.ntrans > 0 {
				return false
			}
			val, node := splitValue(x[k])
			if node != nil || isNil(val) {
				return false
			}
			v, err := fieldValue(t.field, val)
			if err != nil || v == nil || v == model.Unset {
				return false
			}
			if t.field.Kind == fields.JSONField {
				return false // JSON equality seeds are left to the JSON lookups
			}
			*out = append(*out, bson.E{Key: t.stored, Value: v})
		}
		return true
	case expr.Junction:
		if x.Or {
			return false
		}
		for _, child := range x.Children {
			if !equalities(m, child, out) {
				return false
			}
		}
		return true
	}
	return false
}
