package projection

import (
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// build compiles the parsed tree into the executor, walking it depth first in
// specification order as mongod's executor builder does (that order decides where new
// computed fields are appended).
func (p *parser) build() *Projection {
	incl := p.typ == typeInclusion
	proj := &Projection{root: newNode(incl), inclusion: incl, positional: p.hasPositional}
	var walk func(n *astNode, path []string)
	walk = func(n *astNode, path []string) {
		for i, name := range n.names {
			k := n.kids[i]
			full := append(path[:len(path):len(path)], name)
			switch k.kind {
			case astPath:
				walk(k, full)
			case astBool:
				// An inclusion projection can exclude only _id, which then is simply not
				// copied; in an exclusion projection every leaf here is an exclusion.
				if incl && !k.include {
					continue
				}
				proj.root.addProjection(full)
			case astExpr:
				proj.root.addExpression(full, exprFn(k.expr))
			case astElemMatch:
				proj.root.addExpression(full, elemMatchFn(k.elem, name))
			case astSlice:
				if incl {
					proj.root.addProjection(full)
				}
				proj.post = append(proj.post, sliceOp{parts: full, hasSkip: k.hasSkip, skip: k.skip, limit: k.limit})
			case astPositional:
				proj.root.addProjection(full)
				proj.post = append(proj.post, positionalOp{parts: full})
			}
		}
	}
	walk(p.root, nil)
	proj.root.finish()
	return proj
}

func exprFn(e *expr.Expr) computeFn {
	return func(root bson.D, env *expr.Env) (any, error) { return e.Eval(env, root) }
}

// elemMatchFn evaluates find's $elemMatch projection: the first element of the top-level
// array field that matches, as a one-element array, or nothing.
func elemMatchFn(m *match.Matcher, field string) computeFn {
	return func(root bson.D, env *expr.Env) (any, error) {
		ok, pos, err := m.MatchPosition(root, env)
		if err != nil || !ok {
			return value.Missing, err
		}
		arr, isArr := value.Get(root, field).(bson.A)
		if !isArr || pos < 0 || pos >= len(arr) {
			return nil, errInternal("$elemMatch projection matched %s without a matching array element", field)
		}
		return bson.A{arr[pos]}, nil
	}
}

// postOp is a find operator applied to the projected document.
type postOp interface {
	apply(doc bson.D, c *Context) (bson.D, error)
}

// sliceOp is find's $slice: it trims the array at the path, descending through embedded
// documents and through arrays of documents (one array level at a time; an array nested
// directly in an array is left alone). A path that is missing or not an array is left
// unchanged.
type sliceOp struct {
	parts   []string
	hasSkip bool
	skip    int32
	limit   int32
}

func (s sliceOp) apply(doc bson.D, _ *Context) (bson.D, error) {
	return s.onDoc(doc, 0), nil
}

func (s sliceOp) onDoc(doc bson.D, i int) bson.D {
	at := indexOf(doc, s.parts[i])
	if at < 0 {
		return doc
	}
	var nv any
	switch x := doc[at].Value.(type) {
	case bson.A:
		if i == len(s.parts)-1 {
			nv = s.slice(x)
		} else {
			out := make(bson.A, len(x))
			for j, el := range x {
				if d, ok := el.(bson.D); ok {
					out[j] = s.onDoc(d, i+1)
				} else {
					out[j] = el
				}
			}
			nv = out
		}
	case bson.D:
		if i == len(s.parts)-1 {
			return doc
		}
		nv = s.onDoc(x, i+1)
	default:
		return doc
	}
	out := make(bson.D, len(doc))
	copy(out, doc)
	out[at].Value = nv
	return out
}

// slice returns the part of arr the operator selects (a copy, never aliasing arr).
func (s sliceOp) slice(arr bson.A) bson.A {
	n := int64(len(arr))
	var start, count int64
	limit := int64(s.limit)
	switch {
	case !s.hasSkip && limit < 0:
		start = max(0, n+limit)
		count = n - start
	case !s.hasSkip:
		count = min(n, limit)
	case s.skip < 0:
		start = max(0, n+int64(s.skip))
		count = min(n-start, limit)
	default:
		start = min(n, int64(s.skip))
		count = min(n-start, limit)
	}
	out := make(bson.A, count)
	copy(out, arr[start:start+count])
	return out
}

// positionalOp is find's "field.$": the first array along the path is replaced by the
// single element at the position the query matched.
type positionalOp struct {
	parts []string
}

func (o positionalOp) apply(doc bson.D, c *Context) (bson.D, error) {
	sub := doc
	for i, name := range o.parts {
		switch x := value.Get(sub, name).(type) {
		case bson.A:
			pos := -1
			if c != nil {
				pos = c.Positional
			}
			if pos < 0 {
				return nil, mongoerr.Newf(51246, "Executor error during find command :: caused by :: positional operator '.$' couldn't find a matching element in the array")
			}
			if pos >= len(x) {
				return nil, mongoerr.Newf(51247, "Executor error during find command :: caused by :: positional operator '.$' element mismatch")
			}
			return setNested(doc, o.parts[:i+1], bson.A{x[pos]}), nil
		case bson.D:
			sub = x
		default:
			// mongod keeps looking from the same document here; with a projected
			// document this only matters in contrived specifications.
		}
	}
	return doc, nil
}

// setNested returns a copy of doc with the value at parts set to v, copying the documents
// along the path and creating (or replacing non-documents with) documents as needed.
func setNested(doc bson.D, parts []string, v any) bson.D {
	at := indexOf(doc, parts[0])
	out := make(bson.D, len(doc), len(doc)+1)
	copy(out, doc)
	if len(parts) > 1 {
		var sub bson.D
		if at >= 0 {
			sub, _ = out[at].Value.(bson.D)
		}
		v = setNested(sub, parts[1:], v)
	}
	if at >= 0 {
		out[at].Value = v
		return out
	}
	return append(out, bson.E{Key: parts[0], Value: v})
}
