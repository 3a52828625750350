package expr

// Conditional operators: $cond (array and object forms), $ifNull and $switch.

import (
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$cond", parseCond)
	register("$ifNull", parseIfNull)
	register("$switch", parseSwitch)
}

type condNode struct{ cond, then, els node }

func parseCond(args any, sc *scope) (node, error) {
	var n condNode
	if d, ok := args.(bson.D); ok {
		for _, e := range d {
			p, err := parse(e.Value, sc)
			if err != nil {
				return nil, err
			}
			switch e.Key {
			case "if":
				n.cond = p
			case "then":
				n.then = p
			case "else":
				n.els = p
			default:
				return nil, mongoerr.Newf(17083, "Unrecognized parameter to $cond: %s", e.Key)
			}
		}
		switch {
		case n.cond == nil:
			return nil, mongoerr.Newf(17080, "Missing 'if' parameter to $cond")
		case n.then == nil:
			return nil, mongoerr.Newf(17081, "Missing 'then' parameter to $cond")
		case n.els == nil:
			return nil, mongoerr.Newf(17082, "Missing 'else' parameter to $cond")
		}
	} else {
		ops, err := fixedOperands("$cond", 3, args, sc)
		if err != nil {
			return nil, err
		}
		n = condNode{ops[0], ops[1], ops[2]}
	}
	// A constant condition picks its branch once, as mongod's optimizer does.
	if v, ok := literalValue(n.cond); ok {
		if value.Truthy(v) {
			return n.then, nil
		}
		return n.els, nil
	}
	return &n, nil
}

func (n *condNode) eval(c *ctx) (any, error) {
	v, err := n.cond.eval(c)
	if err != nil {
		return nil, err
	}
	if value.Truthy(v) {
		return n.then.eval(c)
	}
	return n.els.eval(c)
}

// ifNullNode returns its first operand that is not null, undefined or missing, or else the
// value of its last operand as it is (which may be missing).
type ifNullNode []node

func parseIfNull(args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	if len(ops) < 2 {
		return nil, mongoerr.Newf(1257300, "$ifNull needs at least two arguments, had: %d", len(ops))
	}
	return foldConstant(ifNullNode(ops), ops...)
}

func (n ifNullNode) eval(c *ctx) (any, error) {
	for i, op := range n {
		v, err := op.eval(c)
		if err != nil {
			return nil, err
		}
		if !value.IsNullish(v) || i == len(n)-1 {
			return v, nil
		}
	}
	return value.Missing, nil
}

type switchBranch struct{ cond, then node }

type switchNode struct {
	branches []switchBranch
	def      node // nil when there is no default
}

func parseSwitch(args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(40060, "$switch requires an object as an argument, found: %s", typeName(args))
	}
	var n switchNode
	for _, e := range d {
		switch e.Key {
		case "branches":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return nil, mongoerr.Newf(40061, "$switch expected an array for 'branches', found: %s", typeName(e.Value))
			}
			for _, b := range arr {
				bd, ok := b.(bson.D)
				if !ok {
					return nil, mongoerr.Newf(40062, "$switch expected each branch to be an object, found: %s", typeName(b))
				}
				var br switchBranch
				for _, f := range bd {
					p, err := parse(f.Value, sc)
					if err != nil {
						return nil, err
					}
					switch f.Key {
					case "case":
						br.cond = p
					case "then":
						br.then = p
					default:
						return nil, mongoerr.Newf(40063, "$switch found an unknown argument to a branch: %s", f.Key)
					}
				}
				if br.cond == nil {
					return nil, mongoerr.Newf(40064, "$switch requires each branch have a 'case' expression")
				}
				if br.then == nil {
					return nil, mongoerr.Newf(40065, "$switch requires each branch have a 'then' expression.")
				}
				n.branches = append(n.branches, br)
			}
		case "default":
			p, err := parse(e.Value, sc)
			if err != nil {
				return nil, err
			}
			n.def = p
		default:
			return nil, mongoerr.Newf(40067, "$switch found an unknown argument: %s", e.Key)
		}
	}
	if len(n.branches) == 0 {
		return nil, mongoerr.Newf(40068, "$switch requires at least one branch.")
	}
	// As mongod's optimizer: constant-false branches go, a constant-true branch becomes the
	// default and ends the list.
	kept := n.branches[:0]
	for _, br := range n.branches {
		if v, ok := literalValue(br.cond); ok {
			if value.Truthy(v) {
				n.def = br.then
				break
			}
			continue
		}
		kept = append(kept, br)
	}
	n.branches = kept
	if len(n.branches) == 0 {
		if n.def == nil {
			return nil, mongoerr.Newf(40069, "One cannot execute a switch statement where all the cases evaluate to false without a default.")
		}
		return n.def, nil
	}
	return &n, nil
}

func (n *switchNode) eval(c *ctx) (any, error) {
	for _, br := range n.branches {
		v, err := br.cond.eval(c)
		if err != nil {
			return nil, err
		}
		if value.Truthy(v) {
			return br.then.eval(c)
		}
	}
	if n.def == nil {
		return nil, mongoerr.Newf(40066, "$switch could not find a matching branch for an input, and no default was specified.")
	}
	return n.def.eval(c)
}
