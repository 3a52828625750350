package expr

// Set operators: $allElementsTrue $anyElementTrue $setDifference $setEquals
// $setIntersection $setIsSubset $setUnion. Arrays are read as sets under MongoDB's value
// equality (1, 1.0 and NumberLong(1) are one element). $setUnion and $setIntersection
// return their elements in BSON order, as mongod's ordered sets do; $setDifference keeps
// the first operand's order.

import (
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	registerUnary("$allElementsTrue", func(v any) (any, error) {
		arr, ok := v.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(17040, "$allElementsTrue's argument must be an array, but is %s", typeName(v))
		}
		for _, e := range arr {
			if !value.Truthy(e) {
				return false, nil
			}
		}
		return true, nil
	})
	registerUnary("$anyElementTrue", func(v any) (any, error) {
		arr, ok := v.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(17041, "$anyElementTrue's argument must be an array, but is %s", typeName(v))
		}
		for _, e := range arr {
			if value.Truthy(e) {
				return true, nil
			}
		}
		return false, nil
	})
	registerBinary("$setDifference", setDifference)
	register("$setEquals", parseSetEquals)
	register("$setIntersection", func(args any, sc *scope) (node, error) { return parseSetNary(true, args, sc) })
	register("$setUnion", func(args any, sc *scope) (node, error) { return parseSetNary(false, args, sc) })
	register("$setIsSubset", parseSetIsSubset)
}

// sortedSet returns the distinct elements of arr in BSON order; among equal elements the
// first one is kept.
func sortedSet(arr bson.A) bson.A {
	out := slices.Clone(arr)
	slices.SortStableFunc(out, value.Compare)
	return slices.CompactFunc(out, value.Equal)
}

// setHas reports whether the sorted set s holds v.
func setHas(s bson.A, v any) bool {
	_, found := slices.BinarySearchFunc(s, v, value.Compare)
	return found
}

func setDifference(a, b any) (any, error) {
	if value.IsNullish(a) || value.IsNullish(b) {
		return nil, nil
	}
	lhs, ok := a.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(17048, "both operands of $setDifference must be arrays. First argument is of type: %s", typeName(a))
	}
	rhs, ok := b.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(17049, "both operands of $setDifference must be arrays. Second argument is of type: %s", typeName(b))
	}
	exclude := sortedSet(rhs)
	// Keep the first occurrence of each value of lhs that rhs does not hold, in lhs order.
	order := make([]int, len(lhs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return value.Compare(lhs[i], lhs[j]) })
	keep := make([]bool, len(lhs))
	for k, i := range order {
		if k > 0 && value.Equal(lhs[order[k-1]], lhs[i]) {
			continue
		}
		keep[i] = !setHas(exclude, lhs[i])
	}
	out := bson.A{}
	for i, e := range lhs {
		if keep[i] {
			out = append(out, e)
		}
	}
	return out, nil
}

type setEqualsNode []node

func parseSetEquals(args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	if len(ops) < 2 {
		return nil, mongoerr.Newf(17045, "$setEquals needs at least two arguments had: %d", len(ops))
	}
	// mongod checks constant operands while optimizing, with its own code.
	for i, op := range ops {
		if v, ok := literalValue(op); ok {
			if _, isArr := v.(bson.A); !isArr {
				return nil, mongoerr.Newf(5887502, "All operands of $setEquals must be arrays. %d-th argument is of type: %s", i+1, typeName(v))
			}
		}
	}
	return setEqualsNode(ops), nil
}

func (n setEqualsNode) eval(c *ctx) (any, error) {
	var first bson.A
	equal := true
	for i, op := range n {
		v, err := op.eval(c)
		if err != nil {
			return nil, err
		}
		arr, ok := v.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(17044, "All operands of $setEquals must be arrays. %d-th argument is of type: %s", i+1, typeName(v))
		}
		s := sortedSet(arr)
		if i == 0 {
			first = s
			continue
		}
		if equal && !slices.EqualFunc(first, s, value.Equal) {
			equal = false
		}
	}
	return equal, nil
}

// setNaryNode is $setIntersection (intersect) or $setUnion.
type setNaryNode struct {
	intersect bool
	ops       []node
}

func parseSetNary(intersect bool, args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	n := &setNaryNode{intersect: intersect, ops: ops}
	return foldConstant(n, ops...)
}

func (n *setNaryNode) eval(c *ctx) (any, error) {
	var acc bson.A
	var all bson.A
	for i, op := range n.ops {
		v, err := op.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(v) {
			return nil, nil
		}
		arr, ok := v.(bson.A)
		if !ok {
			if n.intersect {
				return nil, mongoerr.Newf(17047, "All operands of $setIntersection must be arrays. One argument is of type: %s", typeName(v))
			}
			return nil, mongoerr.Newf(17043, "All operands of $setUnion must be arrays. One argument is of type: %s", typeName(v))
		}
		if !n.intersect {
			all = append(all, arr...)
			continue
		}
		switch {
		case i == 0:
			acc = sortedSet(arr)
		case len(acc) > 0:
			next := sortedSet(arr)
			// Keep the elements of the smaller set, as mongod does.
			if len(acc) > len(next) {
				acc, next = next, acc
			}
			kept := acc[:0:0]
			for _, e := range acc {
				if setHas(next, e) {
					kept = append(kept, e)
				}
			}
			acc = kept
		}
	}
	if !n.intersect {
		return append(bson.A{}, sortedSet(all)...), nil
	}
	return append(bson.A{}, acc...), nil
}

type setIsSubsetNode struct {
	lhs, rhs node
	rhsSet   bson.A // the sorted rhs when it is a constant
	constRHS bool
}

func parseSetIsSubset(args any, sc *scope) (node, error) {
	ops, err := fixedOperands("$setIsSubset", 2, args, sc)
	if err != nil {
		return nil, err
	}
	n := &setIsSubsetNode{lhs: ops[0], rhs: ops[1]}
	if allLiteral(ops...) {
		return foldConstant(n, ops...)
	}
	// A constant right-hand side is checked and indexed once; mongod then reports a bad
	// left-hand side with a code of its own.
	if v, ok := literalValue(ops[1]); ok {
		arr, isArr := v.(bson.A)
		if !isArr {
			return nil, mongoerr.Newf(17311, "both operands of $setIsSubset must be arrays. Second argument is of type: %s", typeName(v))
		}
		n.rhsSet, n.constRHS = sortedSet(arr), true
	}
	return n, nil
}

func (n *setIsSubsetNode) eval(c *ctx) (any, error) {
	a, err := n.lhs.eval(c)
	if err != nil {
		return nil, err
	}
	set := n.rhsSet
	if !n.constRHS {
		b, err := n.rhs.eval(c)
		if err != nil {
			return nil, err
		}
		if _, ok := a.(bson.A); !ok {
			return nil, mongoerr.Newf(17046, "both operands of $setIsSubset must be arrays. First argument is of type: %s", typeName(a))
		}
		rhs, ok := b.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(17042, "both operands of $setIsSubset must be arrays. Second argument is of type: %s", typeName(b))
		}
		set = sortedSet(rhs)
	}
	lhs, ok := a.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(17310, "both operands of $setIsSubset must be arrays. First argument is of type: %s", typeName(a))
	}
	for _, e := range lhs {
		if !setHas(set, e) {
			return false, nil
		}
	}
	return true, nil
}
