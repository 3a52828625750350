package expr

import "strings"

// Nulls says where objects with a null or missing value sort.
type Nulls int

// Null placements. The default follows MongoDB: nulls sort first ascending and last
// descending.
const (
	NullsDefault Nulls = iota
	NullsFirst
	NullsLast
)

// Ordering is one sort term of a QuerySet: an expression, a direction and where nulls go.
type Ordering struct {
	Expr  Node
	Desc  bool
	Nulls Nulls
}

// Asc orders by e ascending.
func (e Expr) Asc() Ordering { return Ordering{Expr: e.Node} }

// Desc orders by e descending.
func (e Expr) Desc() Ordering { return Ordering{Expr: e.Node, Desc: true} }

// NullsFirst places null and missing values before all others.
func (o Ordering) NullsFirst() Ordering { o.Nulls = NullsFirst; return o }

// NullsLast places null and missing values after all others.
func (o Ordering) NullsLast() Ordering { o.Nulls = NullsLast; return o }

// Reverse returns the opposite ordering (Django's QuerySet.reverse), moving nulls to the
// other end as well.
func (o Ordering) Reverse() Ordering {
	o.Desc = !o.Desc
	switch o.Nulls {
	case NullsFirst:
		o.Nulls = NullsLast
	case NullsLast:
		o.Nulls = NullsFirst
	}
	return o
}

// Random is the ordering "?": a random order.
type Random struct{}

// ParseOrdering reads Django's string form: "field", "-field" (descending), "?" (random).
// It returns Random{} for "?" and an Ordering otherwise.
func ParseOrdering(s string) any {
	if s == "?" {
		return Random{}
	}
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return Ordering{Expr: FieldRef{Name: rest}, Desc: true}
	}
	return Ordering{Expr: FieldRef{Name: strings.TrimPrefix(s, "+")}}
}
