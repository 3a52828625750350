package expr

import "sort"

// Condition is a node of a filter tree: a Q, or an And, Or or Not of conditions.
type Condition interface {
	condition()
}

// Q holds lookups that must all hold, keyed "field__lookup" ("title__icontains",
// "author__name", "published__year__gte"); a key without a lookup means exact. Values are
// data (strings, numbers, slices for "in" and "range", nil for "isnull"), or an Expr such
// as F("other_field") to compare with another field. Keys are taken in sorted order, so
// the compiled query is the same on every run.
type Q map[string]any

func (Q) condition() {}

// Keys returns q's lookups in the order they compile: sorted.
func (q Q) Keys() []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// And returns a condition that holds when q and every other condition hold.
func (q Q) And(others ...Condition) Condition { return And(append([]Condition{q}, others...)...) }

// Or returns a condition that holds when q or any other condition holds.
func (q Q) Or(others ...Condition) Condition { return Or(append([]Condition{q}, others...)...) }

// Not returns the negation of q (Django's ~Q).
func (q Q) Not() Condition { return Not(q) }

// Junction is an And or an Or of conditions.
type Junction struct {
	// Or is true for a disjunction, false for a conjunction.
	Or       bool
	Children []Condition
}

func (Junction) condition() {}

// Negation is the negation of a condition, with SQL's meaning for missing and null
// values as Django gives it: Not(Q{"name": "x"}) keeps objects whose name is null.
type Negation struct {
	Child Condition
}

func (Negation) condition() {}

// And returns a condition that holds when every one of cs holds. Nested conjunctions are
// flattened; nil conditions are ignored, and with none left the result is nil (no
// condition at all).
func And(cs ...Condition) Condition { return junction(false, cs) }

// Or returns a condition that holds when any of cs holds. Nested disjunctions are
// flattened; nil conditions are ignored.
func Or(cs ...Condition) Condition { return junction(true, cs) }

func junction(or bool, cs []Condition) Condition {
	out := Junction{Or: or}
	for _, c := range cs {
		switch x := c.(type) {
		case nil:
			continue
		case Junction:
			if x.Or == or {
				out.Children = append(out.Children, x.Children...)
				continue
			}
		}
		out.Children = append(out.Children, c)
	}
	switch len(out.Children) {
	case 0:
		return nil
	case 1:
		return out.Children[0]
	}
	return out
}

// Not returns the negation of c; Not(Not(c)) is c.
func Not(c Condition) Condition {
	if n, ok := c.(Negation); ok {
		return n.Child
	}
	return Negation{Child: c}
}
