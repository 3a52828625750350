package agg

// $fill sets null and missing fields: {sortBy, partitionBy | partitionByFields, output:
// {field: {value: <expr>} | {method: "locf" | "linear"}}}. Like mongod, it compiles to a
// $setWindowFields computing {$locf: "$field"} or {$linearFill: "$field"} for the method
// fields, followed by an $addFields setting {$ifNull: ["$field", <value>]} for the value
// fields.

import (
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$fill", parseFill)
}

// fillChain runs the stages $fill compiles to, one after the other.
type fillChain []stage

func (s fillChain) run(c *Context, in Stream) Stream {
	for _, st := range s {
		in = st.run(c, in)
	}
	return in
}

func parseFill(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "The $fill stage specification must be an object, found %s", value.TypeName(spec))
	}
	var sortBy, output bson.D
	var partitionBy any
	var partitionFields []string
	var hasSort, hasPart, hasPartFields, hasOutput bool
	for _, e := range d {
		if (e.Key == "sortBy" && hasSort) || (e.Key == "partitionBy" && hasPart) ||
			(e.Key == "partitionByFields" && hasPartFields) || (e.Key == "output" && hasOutput) {
			return nil, winDuplicateField("$fill", e.Key)
		}
		switch e.Key {
		case "sortBy":
			if sortBy, ok = e.Value.(bson.D); !ok {
				return nil, winWrongType("$fill", e.Key, e.Value, "object")
			}
			hasSort = true
		case "partitionBy":
			switch e.Value.(type) {
			case bson.D, string:
			default:
				return nil, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '$fill.partitionBy' is the wrong type '%s', expected types '[object, string]'", winTypeName(e.Value))
			}
			partitionBy, hasPart = e.Value, true
		case "partitionByFields":
			names, err := stringArray("$fill", e.Key, e.Value)
			if err != nil {
				return nil, err
			}
			partitionFields, hasPartFields = names, true
		case "output":
			if output, ok = e.Value.(bson.D); !ok {
				return nil, winWrongType("$fill", e.Key, e.Value, "object")
			}
			hasOutput = true
		default:
			return nil, mongoerr.Newf(40415, "BSON field '$fill.%s' is an unknown field.", e.Key)
		}
	}
	if !hasOutput {
		return nil, mongoerr.Newf(40414, "BSON field '$fill.output' is missing but a required field")
	}
	if len(output) == 0 {
		return nil, mongoerr.Newf(6050203, "The output field in '$fill' must contain an object with at least one element")
	}
	var windowOut, addFields bson.D
	for _, f := range output {
		fs, ok := f.Value.(bson.D)
		if !ok {
			return nil, mongoerr.Newf(6050200, "Each fill output specification must be an object with exactly one field")
		}
		var method string
		var val any
		var hasMethod, hasValue bool
		for _, e := range fs {
			switch e.Key {
			case "method":
				if hasMethod {
					return nil, winDuplicateField("$fill", e.Key)
				}
				if method, ok = e.Value.(string); !ok {
					return nil, winWrongType("$fill", e.Key, e.Value, "string")
				}
				hasMethod = true
			case "value":
				if hasValue {
					return nil, winDuplicateField("$fill", e.Key)
				}
				val, hasValue = e.Value, true
			default:
				return nil, mongoerr.Newf(40415, "BSON field '$fill.%s' is an unknown field.", e.Key)
			}
		}
		if hasMethod {
			if hasValue {
				return nil, mongoerr.Newf(6050201, "Each fill output specification must have exactly one of 'method' or 'value' fields, not both")
			}
			var fn string
			switch method {
			case "locf":
				fn = "$locf"
			case "linear":
				fn = "$linearFill"
			default:
				return nil, mongoerr.Newf(6050202, "Method must be either locf or linear")
			}
			windowOut = append(windowOut, bson.E{Key: f.Key, Value: bson.D{{Key: fn, Value: "$" + f.Key}}})
		}
		if hasValue {
			addFields = append(addFields, bson.E{Key: f.Key, Value: bson.D{{Key: "$ifNull", Value: bson.A{"$" + f.Key, val}}}})
		}
	}
	if hasPart && hasPartFields {
		return nil, mongoerr.Newf(6050204, "Maximum one of 'partitionBy' and 'partitionByFields can be specified in '$fill'")
	}
	if hasPartFields {
		key := bson.D{}
		for _, name := range partitionFields {
			key = append(key, bson.E{Key: name, Value: "$" + name})
		}
		partitionBy, hasPart = key, true
	}
	var chain fillChain
	if len(windowOut) > 0 {
		ws, err := compileWindowStage(partitionBy, hasPart, sortBy, hasSort, windowOut, o.Vars)
		if err != nil {
			return nil, err
		}
		chain = append(chain, ws)
	}
	if len(addFields) > 0 {
		af, err := parseAddFields("$addFields")(addFields, o)
		if err != nil {
			return nil, err
		}
		chain = append(chain, af)
	}
	if len(chain) == 1 {
		return chain[0], nil
	}
	return chain, nil
}
