package agg

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$facet", parseFacet)
}

// facetPipeline is one named sub-pipeline of $facet.
type facetPipeline struct {
	name     string
	pipeline *Pipeline
}

// facetStage runs every sub-pipeline over the same input and outputs one document with
// each sub-pipeline's results as an array.
type facetStage []facetPipeline

func parseFacet(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok || len(d) == 0 {
		return nil, mongoerr.Newf(40169, "the $facet specification must be a non-empty object, but found: %s", value.FormatElem("$facet", spec))
	}
	// mongod checks the whole specification's shape before parsing any sub-pipeline.
	for _, e := range d {
		if err := checkFacetName(e.Key); err != nil {
			return nil, err
		}
		arr, ok := e.Value.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(40170, "arguments to $facet must be arrays, %s is type %s", e.Key, value.TypeName(e.Value))
		}
		for _, st := range arr {
			if _, ok := st.(bson.D); !ok {
				return nil, mongoerr.Newf(40171, "elements of arrays in $facet spec must be non-empty objects, %s argument contained an element of type %s: %s", e.Key, value.TypeName(st), value.Format(st))
			}
		}
	}
	out := make(facetStage, 0, len(d))
	for _, e := range d {
		p, err := Compile(e.Value.(bson.A), o.sub("$facet"))
		if err != nil {
			return nil, err
		}
		out = append(out, facetPipeline{name: e.Key, pipeline: p})
	}
	return out, nil
}

// checkFacetName checks an output field name of $facet: a valid field name without '.'.
func checkFacetName(name string) error {
	err := value.CheckFieldPathComponent(name)
	if err == nil && strings.Contains(name, ".") {
		err = mongoerr.Newf(16412, "FieldPath field names may not contain '.'.")
	}
	if err != nil {
		me := mongoerr.From(err)
		return mongoerr.Newf(me.Code, "$facet pipeline names must follow the naming rules of field path expressions. :: caused by :: %s", me.Message)
	}
	return nil
}

func (f facetStage) subPipelines() []*Pipeline {
	out := make([]*Pipeline, len(f))
	for i, x := range f {
		out[i] = x.pipeline
	}
	return out
}

func (f facetStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		// The input documents are shared by every sub-pipeline: stages never modify them.
		var docs []bson.D
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			docs = append(docs, d)
		}
		out := make(bson.D, len(f))
		for i, x := range f {
			arr := bson.A{}
			for d, err := range x.pipeline.RunOn(c, docs) {
				if err != nil {
					yield(nil, err)
					return
				}
				arr = append(arr, d)
			}
			out[i] = bson.E{Key: x.name, Value: arr}
		}
		yield(out, nil)
	}
}
