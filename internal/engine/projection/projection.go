// Package projection compiles and applies MongoDB projections: the find command's
// projection and the $project stage.
//
// A specification is parsed the way mongod parses it (an abstract tree of paths, checked
// for collisions and for mixing inclusion with exclusion), then compiled into an executor
// tree whose nodes mirror mongod's projection nodes: inclusion keeps the fields named (in
// the input document's order) and descends into embedded documents and arrays of
// documents, dropping other array elements; exclusion removes the fields named; computed
// fields are evaluated with the expr package against the whole input document and set
// after the included fields (a new field is appended, in specification order). The
// find-only operators are supported in Find mode: $slice and the positional "a.$" are
// applied to the projected document afterwards, $elemMatch is a computed field.
package projection

import (
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Mode selects the dialect of a projection.
type Mode int

const (
	// Find is the find command's projection: $slice, $elemMatch and "a.$" are allowed and
	// an empty projection returns whole documents.
	Find Mode = iota
	// Aggregate is the $project stage: find-only operators are errors and the
	// specification must not be empty.
	Aggregate
)

// Context carries the per-document inputs of Apply.
type Context struct {
	// Env feeds expressions ($$NOW, user variables); it may be nil.
	Env *expr.Env
	// Positional is the index of the array element the query matched (see
	// match.Matcher.MatchPosition), used by "field.$"; -1 when there is none.
	Positional int
}

// Projection is a compiled projection. It is immutable and safe for concurrent use.
type Projection struct {
	root       *execNode
	inclusion  bool
	post       []postOp // find $slice and positional operators, applied to the result in order
	positional bool
}

// IsInclusion reports whether the projection keeps only the fields it names (rather than
// removing the fields it names).
func (p *Projection) IsInclusion() bool { return p.inclusion }

// UsesPositional reports whether the projection has a positional "field.$" element, which
// needs Context.Positional from the query.
func (p *Projection) UsesPositional() bool { return p.positional }

// Apply returns the projected document. doc is not modified; the result may share
// embedded documents, arrays and other values with doc, so callers must treat both as
// read-only or copy before modifying. c may be nil.
func (p *Projection) Apply(doc bson.D, c *Context) (bson.D, error) {
	var env *expr.Env
	if c != nil {
		env = c.Env
	}
	out := p.root.project(doc)
	if p.root.computed {
		var err error
		if out, err = p.root.applyExpressions(doc, out, env); err != nil {
			return nil, err
		}
	}
	for _, op := range p.post {
		var err error
		if out, err = op.apply(out, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// computeFn evaluates a computed field against the input document; it may return
// value.Missing, which leaves the field out.
type computeFn func(root bson.D, env *expr.Env) (any, error)

// fieldAction says what to do with an input field of a node: keep/drop it (projected) or
// descend into it (child).
type fieldAction struct {
	name  string
	child *execNode // nil for a projected (included or excluded) field
}

// orderEntry is one step of applyExpressions: a computed field or a child whose subtree
// has computed fields.
type orderEntry struct {
	name  string
	child *execNode
	eval  computeFn
}

// linearLimit is how many field names a node searches linearly before using a map.
const linearLimit = 8

// execNode mirrors mongod's projection node for one level of the document.
type execNode struct {
	incl     bool
	fields   []fieldAction
	index    map[string]int // name -> position in fields, when there are many
	order    []orderEntry
	computed bool // this node or a descendant has a computed field
	// maxFields is how many input fields an inclusion node without computed fields can use;
	// once all are seen the rest of the document is skipped.
	maxFields int
}

func newNode(incl bool) *execNode { return &execNode{incl: incl} }

func (n *execNode) lookup(name string) (fieldAction, bool) {
	if n.index != nil {
		i, ok := n.index[name]
		if !ok {
			return fieldAction{}, false
		}
		return n.fields[i], true
	}
	for _, f := range n.fields {
		if f.name == name {
			return f, true
		}
	}
	return fieldAction{}, false
}

func (n *execNode) addField(f fieldAction) {
	n.fields = append(n.fields, f)
	if n.index != nil {
		n.index[f.name] = len(n.fields) - 1
	} else if len(n.fields) > linearLimit {
		n.index = make(map[string]int, len(n.fields))
		for i, g := range n.fields {
			n.index[g.name] = i
		}
	}
}

func (n *execNode) addOrGetChild(name string) *execNode {
	if f, ok := n.lookup(name); ok && f.child != nil {
		return f.child
	}
	c := newNode(n.incl)
	n.addField(fieldAction{name: name, child: c})
	n.order = append(n.order, orderEntry{name: name, child: c})
	return c
}

func (n *execNode) addProjection(parts []string) {
	if len(parts) == 1 {
		if _, ok := n.lookup(parts[0]); !ok {
			n.addField(fieldAction{name: parts[0]})
		}
		return
	}
	n.addOrGetChild(parts[0]).addProjection(parts[1:])
}

func (n *execNode) addExpression(parts []string, fn computeFn) {
	n.computed = true
	if len(parts) == 1 {
		n.order = append(n.order, orderEntry{name: parts[0], eval: fn})
		return
	}
	n.addOrGetChild(parts[0]).addExpression(parts[1:], fn)
}

// finish precomputes maxFields over the tree.
func (n *execNode) finish() {
	for _, f := range n.fields {
		if f.child != nil {
			f.child.finish()
		}
	}
	if n.incl && !n.computed {
		n.maxFields = len(n.fields)
	}
}

// project applies the inclusions and exclusions of n to the document in. Children whose
// subtree computes fields keep a Missing placeholder when they produce nothing, so that
// applyExpressions later fills the field at the input's position, as mongod does.
func (n *execNode) project(in bson.D) bson.D {
	var out bson.D
	if n.incl {
		out = make(bson.D, 0, min(len(in), len(n.fields)))
	} else {
		out = make(bson.D, 0, len(in))
	}
	seen := 0
	for _, e := range in {
		f, ok := n.lookup(e.Key)
		if !ok {
			if !n.incl {
				out = append(out, e)
			}
			continue
		}
		if f.child == nil {
			if n.incl {
				out = append(out, e)
			}
		} else if v := f.child.projectValue(e.Value); !value.IsMissing(v) || f.child.computed {
			out = append(out, bson.E{Key: e.Key, Value: v})
		}
		seen++
		if seen == n.maxFields {
			break
		}
	}
	return out
}

// projectValue applies n to the value of a field n stands for: documents are projected,
// arrays element by element (nested arrays too), and other values are dropped by an
// inclusion and kept by an exclusion.
func (n *execNode) projectValue(v any) any {
	switch x := v.(type) {
	case bson.D:
		return n.project(x)
	case bson.A:
		out := make(bson.A, 0, len(x))
		for _, el := range x {
			r := n.projectValue(el)
			if value.IsMissing(r) && !n.computed {
				continue
			}
			out = append(out, r)
		}
		return out
	}
	if n.incl {
		return value.Missing
	}
	return v
}

// applyExpressions sets n's computed fields (and those of its children) in out, a document
// produced by project (so it may be modified in place), then drops Missing fields.
func (n *execNode) applyExpressions(root, out bson.D, env *expr.Env) (bson.D, error) {
	for _, o := range n.order {
		i := indexOf(out, o.name)
		var v any
		if o.child != nil {
			if !o.child.computed {
				continue
			}
			var cur any = value.Missing
			if i >= 0 {
				cur = out[i].Value
			}
			var err error
			if v, err = o.child.expressionsOnValue(root, cur, env); err != nil {
				return nil, err
			}
		} else {
			var err error
			if v, err = o.eval(root, env); err != nil {
				return nil, err
			}
		}
		if i >= 0 {
			out[i].Value = v
		} else if !value.IsMissing(v) {
			out = append(out, bson.E{Key: o.name, Value: v})
		}
	}
	return slices.DeleteFunc(out, func(e bson.E) bool { return value.IsMissing(e.Value) }), nil
}

// expressionsOnValue applies n's computed fields to the projected value of its field:
// into a document, into each element of an array, and otherwise onto a new document that
// replaces the value ({"a.b": {$literal: 1}} turns a: 5 into a: {b: 1}).
func (n *execNode) expressionsOnValue(root bson.D, v any, env *expr.Env) (any, error) {
	switch x := v.(type) {
	case bson.D:
		return n.applyExpressions(root, x, env)
	case bson.A:
		for i, el := range x {
			r, err := n.expressionsOnValue(root, el, env)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
		return x, nil
	}
	return n.applyExpressions(root, bson.D{}, env)
}

func indexOf(d bson.D, key string) int {
	for i := range d {
		if d[i].Key == key {
			return i
		}
	}
	return -1
}

// errInternal reports a broken invariant instead of a silently wrong document.
func errInternal(format string, args ...any) error {
	return mongoerr.Newf(mongoerr.InternalError, format, args...)
}
