package expr

// $let binds variables for a sub-expression; $literal (and its alias $const) returns its
// argument unparsed.

import (
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$let", parseLet)
	register("$literal", func(args any, _ *scope) (node, error) { return literal{args}, nil })
	register("$const", func(args any, _ *scope) (node, error) { return literal{args}, nil })
}

// binding is where a user-bound variable lives: a slot, or $$CURRENT itself, which $let,
// $map and $filter may rebind (it changes what "$field" paths read).
type binding struct {
	slot    int
	current bool
}

// bindNames validates names a user binds and opens a scope for them. It accepts CURRENT,
// the one system variable users may rebind.
func bindNames(sc *scope, names ...string) (*scope, []binding, error) {
	for _, name := range names {
		if name == "CURRENT" {
			continue
		}
		if err := validateVarName(name); err != nil {
			return nil, nil, err
		}
	}
	child, slots := sc.bind(names...)
	out := make([]binding, len(names))
	for i, name := range names {
		out[i] = binding{slot: slots[i], current: name == "CURRENT"}
	}
	return child, out, nil
}

// set stores v in the binding; the caller restores $$CURRENT when it rebinds it.
func (b binding) set(c *ctx, v any) {
	if b.current {
		c.setCurrent(v)
		return
	}
	c.slots[b.slot] = v
}

type letNode struct {
	vars     []node
	bindings []binding
	in       node
}

func parseLet(args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(16874, "$let only supports an object as its argument")
	}
	var varsSpec, inSpec any
	var hasVars, hasIn bool
	for _, e := range d {
		switch e.Key {
		case "vars":
			varsSpec, hasVars = e.Value, true
		case "in":
			inSpec, hasIn = e.Value, true
		default:
			return nil, mongoerr.Newf(16875, "Unrecognized parameter to $let: %s", e.Key)
		}
	}
	if !hasVars {
		return nil, mongoerr.Newf(16876, "Missing 'vars' parameter to $let")
	}
	if !hasIn {
		return nil, mongoerr.Newf(16877, "Missing 'in' parameter to $let")
	}
	vd, ok := varsSpec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(10065, "invalid parameter: expected an object (vars)")
	}
	n := &letNode{vars: make([]node, len(vd))}
	names := make([]string, len(vd))
	for i, e := range vd {
		p, err := parse(e.Value, sc) // variables only see the outer scope
		if err != nil {
			return nil, err
		}
		n.vars[i] = p
		names[i] = e.Key
	}
	inner, bindings, err := bindNames(sc, names...)
	if err != nil {
		return nil, err
	}
	n.bindings = bindings
	if n.in, err = parse(inSpec, inner); err != nil {
		return nil, err
	}
	if len(vd) == 0 {
		return n.in, nil
	}
	return n, nil
}

func (n *letNode) eval(c *ctx) (any, error) {
	var newCurrent any
	rebind := false
	for i, v := range n.vars {
		x, err := v.eval(c)
		if err != nil {
			return nil, err
		}
		if n.bindings[i].current {
			// Set after every variable is evaluated: the others read the outer $$CURRENT.
			newCurrent, rebind = x, true
			continue
		}
		n.bindings[i].set(c, x)
	}
	if !rebind {
		return n.in.eval(c)
	}
	prev := c.saveCurrent()
	c.setCurrent(newCurrent)
	out, err := n.in.eval(c)
	c.restoreCurrent(prev)
	return out, err
}
