package agg

import (
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$documents", parseDocuments)
}

// documentsStage makes the pipeline's input from an expression: an array of documents.
// It behaves as mongod's expansion of it ($project of the expression, $unwind, then
// $replaceRoot): null or missing makes nothing, a value that is not an array counts as a
// one-element array, and every element must be a document.
type documentsStage struct{ e *expr.Expr }

func parseDocuments(spec any, o *Options) (stage, error) {
	e, err := expr.Compile(spec, o.Vars...)
	if err != nil {
		return nil, err
	}
	return &documentsStage{e: e}, nil
}

func (*documentsStage) name() string { return "$documents" }
func (*documentsStage) firstOnly()   {}

func (s *documentsStage) run(c *Context, _ Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		v, err := s.e.Eval(c.Env, bson.D{})
		if err != nil {
			yield(nil, err)
			return
		}
		if value.IsNullish(v) {
			return
		}
		items, ok := v.(bson.A)
		if !ok {
			items = bson.A{v}
		}
		for _, item := range items {
			d, ok := item.(bson.D)
			if !ok {
				yield(nil, mongoerr.Newf(40228, "'newRoot' expression must evaluate to an object, but resulting value was: %s. Type of resulting value: '%s'.", value.Format(item), value.TypeName(item)))
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}
