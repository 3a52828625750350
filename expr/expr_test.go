package expr

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQKeysAreSorted(t *testing.T) {
	q := Q{"year__gte": 2020, "author__name": "x", "title__icontains": "go"}
	assert.Equal(t, []string{"author__name", "title__icontains", "year__gte"}, q.Keys())
}

func TestJunctionsFlattenAndNegationsCancel(t *testing.T) {
	a, b, c := Q{"a": 1}, Q{"b": 2}, Q{"c": 3}
	assert.Equal(t, Junction{Children: []Condition{a, b, c}}, And(a, And(b, c)))
	assert.Equal(t, Junction{Or: true, Children: []Condition{a, b, c}}, a.Or(b).(Junction).orWith(c))
	assert.Equal(t, Junction{Children: []Condition{a, Junction{Or: true, Children: []Condition{b, c}}}}, a.And(Or(b, c)))
	assert.Equal(t, a, And(a, nil))
	assert.Equal(t, Negation{Child: a}, a.Not())
	assert.Equal(t, a, Not(Not(a)))
	assert.Nil(t, And())
}

// orWith is a test helper: a disjunction extended with one more condition.
func (j Junction) orWith(c Condition) Condition { return Or(j, c) }

func TestExpressions(t *testing.T) {
	e := F("pages").Sub(F("chapters").Mul(10)).Add(1)
	assert.Equal(t, "((F(pages) - (F(chapters) * Value(10))) + Value(1))", e.String())
	assert.Equal(t, Arithmetic{Op: OpPow, Left: FieldRef{Name: "x"}, Right: Constant{Value: 2}}, F("x").Pow(2).Node)
	assert.Equal(t, FieldRef{Name: "y"}, NodeOf(F("y")))
	assert.Equal(t, Constant{Value: "$gt"}, NodeOf("$gt"), "strings are data, not field paths")
	assert.Equal(t, Constant{Value: 5}, Value(5).Node)
}

func TestOrderings(t *testing.T) {
	assert.Equal(t, Ordering{Expr: FieldRef{Name: "title"}}, ParseOrdering("title"))
	assert.Equal(t, Ordering{Expr: FieldRef{Name: "published"}, Desc: true}, ParseOrdering("-published"))
	assert.Equal(t, Random{}, ParseOrdering("?"))
	o := F("published").Desc().NullsLast()
	assert.Equal(t, Ordering{Expr: FieldRef{Name: "published"}, Desc: true, Nulls: NullsLast}, o)
	assert.Equal(t, Ordering{Expr: FieldRef{Name: "published"}, Nulls: NullsFirst}, o.Reverse())
}
