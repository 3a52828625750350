package expr

// Object operators: $getField, $setField, $unsetField and the expression form of
// $mergeObjects.

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$getField", parseGetField)
	register("$setField", func(args any, sc *scope) (node, error) { return parseSetField("$setField", args, sc) })
	register("$unsetField", func(args any, sc *scope) (node, error) { return parseSetField("$unsetField", args, sc) })
	register("$mergeObjects", parseMergeObjects)
}

// constantFieldName checks the 'field' argument of $getField and $setField, which must be a
// string constant: a plain string or a $literal/$const of one. The error codes are those of
// a field path, a non-constant expression and a constant of another type.
func constantFieldName(spec any, pathCode, nonConstCode, typeCode int32, opName string) (string, error) {
	switch x := spec.(type) {
	case string:
		if strings.HasPrefix(x, "$") {
			return "", mongoerr.Newf(pathCode, "'%s' is a field path reference which is not allowed in this context. Did you mean {$literal: '%s'}?", x, x)
		}
		return x, nil
	case bson.D:
		if len(x) == 1 && (x[0].Key == "$literal" || x[0].Key == "$const") {
			if s, ok := x[0].Value.(string); ok {
				return s, nil
			}
			return "", mongoerr.Newf(typeCode, "%s requires 'field' to evaluate to type String, but got %s", opName, typeName(x[0].Value))
		}
		return "", mongoerr.Newf(nonConstCode, "%s requires 'field' to evaluate to a constant, but got a non-constant argument", opName)
	case bson.A:
		return "", mongoerr.Newf(nonConstCode, "%s requires 'field' to evaluate to a constant, but got a non-constant argument", opName)
	}
	return "", mongoerr.Newf(typeCode, "%s requires 'field' to evaluate to type String, but got %s", opName, typeName(spec))
}

type getFieldNode struct {
	field string
	input node
}

func parseGetField(args any, sc *scope) (node, error) {
	var fieldSpec, inputSpec any
	hasField, hasInput := false, false
	if d, ok := args.(bson.D); ok {
		for _, e := range d {
			if !hasField && !hasInput && strings.HasPrefix(e.Key, "$") {
				// {$getField: {$literal: "a"}}: the whole object is the field expression.
				fieldSpec, hasField = args, true
				inputSpec, hasInput = "$$CURRENT", true
				break
			}
			switch e.Key {
			case "field":
				fieldSpec, hasField = e.Value, true
			case "input":
				inputSpec, hasInput = e.Value, true
			default:
				return nil, mongoerr.Newf(3041701, "$getField found an unknown argument: %s", e.Key)
			}
		}
	} else {
		fieldSpec, hasField = args, true
		inputSpec, hasInput = "$$CURRENT", true
	}
	if !hasField {
		return nil, mongoerr.Newf(3041702, "$getField requires 'field' to be specified")
	}
	if !hasInput {
		return nil, mongoerr.Newf(3041703, "$getField requires 'input' to be specified")
	}
	input, err := parse(inputSpec, sc)
	if err != nil {
		return nil, err
	}
	field, err := constantFieldName(fieldSpec, 5654600, 5654601, 5654602, "$getField")
	if err != nil {
		return nil, err
	}
	return &getFieldNode{field: field, input: input}, nil
}

func (n *getFieldNode) eval(c *ctx) (any, error) {
	v, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case bson.D:
		return value.Get(x, n.field), nil
	case nil, bson.Null, bson.Undefined:
		return nil, nil
	}
	return value.Missing, nil
}

type setFieldNode struct {
	name  string
	field string
	input node
	value node
}

func parseSetField(name string, args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(4161100, "%s only supports an object as its argument", name)
	}
	n := &setFieldNode{name: name}
	var fieldSpec any
	hasField := false
	for _, e := range d {
		switch {
		case e.Key == "field":
			fieldSpec, hasField = e.Value, true
		case e.Key == "input":
			p, err := parse(e.Value, sc)
			if err != nil {
				return nil, err
			}
			n.input = p
		case e.Key == "value" && name == "$setField":
			p, err := parse(e.Value, sc)
			if err != nil {
				return nil, err
			}
			n.value = p
		default:
			return nil, mongoerr.Newf(4161101, "%s found an unknown argument: %s", name, e.Key)
		}
	}
	if name == "$unsetField" {
		n.value = literal{value.Missing}
	}
	switch {
	case !hasField:
		return nil, mongoerr.Newf(4161102, "%s requires 'field' to be specified", name)
	case n.value == nil:
		return nil, mongoerr.Newf(4161103, "%s requires 'value' to be specified", name)
	case n.input == nil:
		return nil, mongoerr.Newf(4161109, "%s requires 'input' to be specified", name)
	}
	field, err := constantFieldName(fieldSpec, 4161108, 4161106, 4161107, name)
	if err != nil {
		return nil, err
	}
	n.field = field
	return n, nil
}

func (n *setFieldNode) eval(c *ctx) (any, error) {
	in, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(in) {
		return nil, nil
	}
	doc, ok := in.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(4161105, "$setField requires 'input' to evaluate to type Object")
	}
	v, err := n.value.eval(c)
	if err != nil {
		return nil, err
	}
	return setField(doc, n.field, v), nil
}

// setField returns a copy of doc with key set to v in place (appended when absent), or
// removed when v is missing. doc itself is not modified.
func setField(doc bson.D, key string, v any) bson.D {
	remove := value.IsMissing(v)
	out := make(bson.D, 0, len(doc)+1)
	found := false
	for _, e := range doc {
		if e.Key == key {
			found = true
			if remove {
				continue
			}
			e.Value = v
		}
		out = append(out, e)
	}
	if !found && !remove {
		out = append(out, bson.E{Key: key, Value: v})
	}
	return out
}

// mergeObjectsNode merges documents left to right; later fields overwrite earlier ones in
// place. A single array operand merges the array's documents.
type mergeObjectsNode []node

func parseMergeObjects(args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(mergeObjectsNode(ops), ops...)
}

func (m mergeObjectsNode) eval(c *ctx) (any, error) {
	out := bson.D{}
	if len(m) == 1 {
		v, err := m[0].eval(c)
		if err != nil {
			return nil, err
		}
		if arr, ok := v.(bson.A); ok {
			for _, x := range arr {
				if out, err = mergeInto(out, x); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		return mergeInto(out, v)
	}
	for _, n := range m {
		v, err := n.eval(c)
		if err != nil {
			return nil, err
		}
		if out, err = mergeInto(out, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func mergeInto(out bson.D, v any) (bson.D, error) {
	if value.IsNullish(v) {
		return out, nil
	}
	doc, ok := v.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(40400, "$mergeObjects requires object inputs, but input %s is of type %s", value.Format(v), typeName(v))
	}
	for _, e := range doc {
		replaced := false
		for i := range out {
			if out[i].Key == e.Key {
				out[i].Value = e.Value
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out, nil
}
