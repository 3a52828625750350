package server

import (
	"math"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// genericFields are accepted by every command: they carry session, transaction, routing
// and client metadata that this server does not need to act on.
var genericFields = map[string]bool{
	"$db": true, "lsid": true, "$clusterTime": true, "txnNumber": true, "$readPreference": true,
	"readConcern": true, "writeConcern": true, "apiVersion": true, "apiStrict": true,
	"apiDeprecationErrors": true, "comment": true, "maxTimeMS": true, "$audit": true,
	"$client": true, "mayBypassWriteBlocking": true, "$configServerState": true,
	"databaseVersion": true, "shardVersion": true, "$query": true, "$readPreferenceDeprecated": true,
}

func unknownField(cmd, field string) error {
	return mongoerr.Newf(40415, "BSON field '%s.%s' is an unknown field.", cmd, field)
}

func wrongType(cmd, field string, v any, want string) error {
	return mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '%s.%s' is the wrong type '%s', expected type%s", cmd, field, value.TypeName(v), want)
}

// fields walks a command's options (everything after the command name), calling fn for
// each one; fn returns false for a field it does not know, which becomes error 40415
// unless it is a generic field.
func fields(cmd string, body bson.D, fn func(e bson.E) (bool, error)) error {
	for _, e := range body[1:] {
		known, err := fn(e)
		if err != nil {
			return err
		}
		if !known && !genericFields[e.Key] {
			return unknownField(cmd, e.Key)
		}
	}
	return nil
}

func asInt64(cmd, field string, v any) (int64, error) {
	switch x := v.(type) {
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, mongoerr.Newf(mongoerr.BadValue, "BSON field '%s.%s' must be a finite number", cmd, field)
		}
		return int64(x), nil
	case bson.Decimal128:
		f, _ := value.ToFloat64(x)
		return int64(f), nil
	}
	return 0, wrongType(cmd, field, v, "s '[long, int, decimal, double]'")
}

func asNonNegative(cmd, field string, v any) (int64, error) {
	n, err := asInt64(cmd, field, v)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, mongoerr.Newf(51024, "BSON field '%s.%s' value must be >= 0, actual value '%d'", cmd, field, n)
	}
	return n, nil
}

func asBool(cmd, field string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int32, int64, float64, bson.Decimal128:
		return value.Truthy(x), nil
	case nil:
		return false, nil
	}
	return false, wrongType(cmd, field, v, " 'bool'")
}

func asDoc(cmd, field string, v any) (bson.D, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, wrongType(cmd, field, v, " 'object'")
	}
	return d, nil
}

func asString(cmd, field string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", wrongType(cmd, field, v, " 'string'")
	}
	return s, nil
}

func asArray(cmd, field string, v any) (bson.A, error) {
	a, ok := v.(bson.A)
	if !ok {
		return nil, wrongType(cmd, field, v, " 'array'")
	}
	return a, nil
}

func notSupported(what string) error {
	return mongoerr.Newf(mongoerr.NotImplemented, "mongotest does not support %s", what)
}
