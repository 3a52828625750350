package match

import (
	"math/rand/v2"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// node is a compiled expression over a whole document.
type node interface {
	// eval reports whether doc matches and, when it does, the array position that satisfied
	// an array condition (-1 for none), as mongod's MatchDetails.elemMatchKey.
	eval(doc bson.D, env *expr.Env) (bool, int, error)
}

// andNode matches when every child matches. Like mongod, a later child that matched through
// an array overrides the position recorded by an earlier one.
type andNode []node

func (a andNode) eval(doc bson.D, env *expr.Env) (bool, int, error) {
	pos := -1
	for _, n := range a {
		ok, p, err := n.eval(doc, env)
		if err != nil || !ok {
			return false, -1, err
		}
		if p >= 0 {
			pos = p
		}
	}
	return true, pos, nil
}

// orNode matches when a child matches. Positions are not recorded through $or, as in mongod.
type orNode []node

func (o orNode) eval(doc bson.D, env *expr.Env) (bool, int, error) {
	for _, n := range o {
		ok, _, err := n.eval(doc, env)
		if err != nil {
			return false, -1, err
		}
		if ok {
			return true, -1, nil
		}
	}
	return false, -1, nil
}

// norNode matches when no child matches.
type norNode []node

func (o norNode) eval(doc bson.D, env *expr.Env) (bool, int, error) {
	for _, n := range o {
		ok, _, err := n.eval(doc, env)
		if err != nil {
			return false, -1, err
		}
		if ok {
			return false, -1, nil
		}
	}
	return true, -1, nil
}

// constNode always or never matches ($alwaysTrue, $alwaysFalse, an empty sub-filter).
type constNode bool

func (c constNode) eval(bson.D, *expr.Env) (bool, int, error) { return bool(c), -1, nil }

// fieldNode applies a predicate to the values a field path yields.
type fieldNode struct {
	path *path
	pred pred
}

func (f *fieldNode) eval(doc bson.D, _ *expr.Env) (bool, int, error) {
	ok, pos := f.pred.onPath(doc, f.path)
	return ok, pos, nil
}

// exprNode is $expr: an aggregation expression whose value's truthiness decides the match.
type exprNode struct{ e *expr.Expr }

func (x *exprNode) eval(doc bson.D, env *expr.Env) (bool, int, error) {
	v, err := x.e.Eval(env, doc)
	if err != nil {
		return false, -1, err
	}
	return value.Truthy(v), -1, nil
}

// sampleNode is $sampleRate: each document matches with the given probability.
type sampleNode float64

func (s sampleNode) eval(bson.D, *expr.Env) (bool, int, error) {
	return rand.Float64() < float64(s), -1, nil
}

// schemaNode is $jsonSchema.
type schemaNode struct{ s *schema }

func (s *schemaNode) eval(doc bson.D, _ *expr.Env) (bool, int, error) {
	return s.s.matchTop(doc), -1, nil
}

// pred is a compiled predicate over one field.
type pred interface {
	// onPath applies the predicate to the values path yields from doc (mongod's
	// PathMatchExpression::matches).
	onPath(doc bson.D, p *path) (bool, int)
	// onValue is onPath for a one-field document whose field holds v: an array v is also
	// tested element by element.
	onValue(v any) (bool, int)
	// single tests exactly v, without array traversal (mongod's matchesSingleElement).
	single(v any) (bool, int)
}

// leafPred applies a leaf test through the path traversal.
type leafPred struct {
	l leaf
	// whole makes a leaf array reach the test only as a whole ($size, $elemMatch), not also
	// element by element.
	whole bool
}

func (lp *leafPred) onPath(doc bson.D, p *path) (bool, int) {
	return p.fromDoc(doc, 0, -1, lp.l, !lp.whole)
}

func (lp *leafPred) onValue(v any) (bool, int) { return atLeaf(v, -1, lp.l, !lp.whole) }

func (lp *leafPred) single(v any) (bool, int) { return lp.l.test(v) }

// notPred negates a predicate over the whole path ($not, $ne, $nin, $exists: false): no
// value the path yields may satisfy it.
type notPred struct{ sub pred }

func (n *notPred) onPath(doc bson.D, p *path) (bool, int) {
	ok, _ := n.sub.onPath(doc, p)
	return !ok, -1
}

func (n *notPred) onValue(v any) (bool, int) {
	ok, _ := n.sub.onValue(v)
	return !ok, -1
}

func (n *notPred) single(v any) (bool, int) {
	ok, _ := n.sub.single(v)
	return !ok, -1
}

// andPred requires every predicate, each applied to the path independently (so {$gt: 1,
// $lt: 5} can be satisfied by different elements of an array).
type andPred []pred

func (a andPred) onPath(doc bson.D, p *path) (bool, int) {
	pos := -1
	for _, pr := range a {
		ok, q := pr.onPath(doc, p)
		if !ok {
			return false, -1
		}
		if q >= 0 {
			pos = q
		}
	}
	return true, pos
}

func (a andPred) onValue(v any) (bool, int) {
	pos := -1
	for _, pr := range a {
		ok, q := pr.onValue(v)
		if !ok {
			return false, -1
		}
		if q >= 0 {
			pos = q
		}
	}
	return true, pos
}

func (a andPred) single(v any) (bool, int) {
	for _, pr := range a {
		if ok, _ := pr.single(v); !ok {
			return false, -1
		}
	}
	return true, -1
}

// constPred always or never holds (an empty $all never does).
type constPred bool

func (c constPred) onPath(bson.D, *path) (bool, int) { return bool(c), -1 }
func (c constPred) onValue(any) (bool, int)          { return bool(c), -1 }
func (c constPred) single(any) (bool, int)           { return bool(c), -1 }

// andOf returns the conjunction of preds, without a wrapper for a single one.
func andOf(preds []pred) pred {
	if len(preds) == 1 {
		return preds[0]
	}
	return andPred(preds)
}
