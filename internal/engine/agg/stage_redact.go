package agg

import (
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$redact", parseRedact)
}

// redactCurrentVar is the variable through which $redact hands the expression the
// (sub)document it decides on. The expression is compiled inside
// {$let: {vars: {CURRENT: "$$<this>"}, in: <expression>}}, so that field paths and
// $$CURRENT read that document while $$ROOT stays the whole input document. The name
// cannot be a user variable: those start with a lowercase letter.
const redactCurrentVar = "REDACT$CURRENT"

// redactStage keeps, prunes or descends into each document and, when descending, into
// each embedded document (including those in arrays), as its expression decides.
type redactStage struct{ e *expr.Expr }

func parseRedact(spec any, o *Options) (stage, error) {
	wrapped := bson.D{{Key: "$let", Value: bson.D{
		{Key: "vars", Value: bson.D{{Key: "CURRENT", Value: "$$" + redactCurrentVar}}},
		{Key: "in", Value: spec},
	}}}
	vars := append(append(make([]string, 0, len(o.Vars)+1), o.Vars...), redactCurrentVar)
	e, err := expr.Compile(wrapped, vars...)
	if err != nil {
		return nil, err
	}
	return &redactStage{e: e}, nil
}

// redactDecision is what the expression returned for one document.
type redactDecision int

const (
	redactKeep redactDecision = iota
	redactPrune
	redactDescend
)

func (s *redactStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		// One environment per run: the current document changes with each evaluation.
		var env expr.Env
		if c.Env != nil {
			env = *c.Env
		}
		env.Vars = make(map[string]any, len(env.Vars)+1)
		if c.Env != nil {
			for k, v := range c.Env.Vars {
				env.Vars[k] = v
			}
		}
		r := &redactor{e: s.e, env: &env}
		for d, err := range in {
			var out bson.D
			var keep bool
			if err == nil {
				out, keep, err = r.document(d, d)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if keep && !yield(out, nil) {
				return
			}
		}
	}
}

// redactor evaluates one run's $redact.
type redactor struct {
	e   *expr.Expr
	env *expr.Env
}

func (r *redactor) decide(root bson.D, current bson.D) (redactDecision, error) {
	r.env.Vars[redactCurrentVar] = current
	v, err := r.e.Eval(r.env, root)
	if err != nil {
		return 0, err
	}
	// The variables are the strings "keep", "prune" and "descend" in mongod, so the
	// expression may return those strings too.
	switch v {
	case any(expr.RedactKeep), "keep":
		return redactKeep, nil
	case any(expr.RedactPrune), "prune":
		return redactPrune, nil
	case any(expr.RedactDescend), "descend":
		return redactDescend, nil
	}
	shown := "MISSING"
	if !value.IsMissing(v) {
		shown = value.Format(v)
	}
	return 0, mongoerr.Newf(17053, "$redact's expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned %s", shown)
}

// document redacts current (root is the input document); keep is false when it is pruned.
func (r *redactor) document(root, current bson.D) (out bson.D, keep bool, err error) {
	dec, err := r.decide(root, current)
	if err != nil {
		return nil, false, err
	}
	switch dec {
	case redactKeep:
		return current, true, nil
	case redactPrune:
		return nil, false, nil
	}
	out = make(bson.D, 0, len(current))
	for _, e := range current {
		v, keep, err := r.value(root, e.Value)
		if err != nil {
			return nil, false, err
		}
		if keep {
			out = append(out, bson.E{Key: e.Key, Value: v})
		}
	}
	return out, true, nil
}

// value redacts a field's value: documents are decided on, arrays are walked for the
// documents (and arrays) they hold, other values stay.
func (r *redactor) value(root bson.D, v any) (any, bool, error) {
	switch x := v.(type) {
	case bson.D:
		return r.document(root, x)
	case bson.A:
		arr := make(bson.A, 0, len(x))
		for _, el := range x {
			switch el.(type) {
			case bson.D, bson.A:
				rv, keep, err := r.value(root, el)
				if err != nil {
					return nil, false, err
				}
				if keep {
					arr = append(arr, rv)
				}
			default:
				arr = append(arr, el)
			}
		}
		return arr, true, nil
	}
	return v, true, nil
}
