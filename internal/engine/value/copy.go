package value

import "go.mongodb.org/mongo-driver/v2/bson"

// DeepCopy returns a copy of v that shares no documents, arrays or byte slices with it,
// so the copy can be modified while the original is still being read elsewhere.
func DeepCopy(v any) any {
	switch x := v.(type) {
	case bson.D:
		return CopyDoc(x)
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = DeepCopy(e)
		}
		return out
	case bson.Binary:
		return bson.Binary{Subtype: x.Subtype, Data: append([]byte(nil), x.Data...)}
	case bson.CodeWithScope:
		return bson.CodeWithScope{Code: x.Code, Scope: DeepCopy(x.Scope)}
	}
	return v
}

// CopyDoc returns a deep copy of doc.
func CopyDoc(doc bson.D) bson.D {
	if doc == nil {
		return nil
	}
	out := make(bson.D, len(doc))
	for i, e := range doc {
		out[i] = bson.E{Key: e.Key, Value: DeepCopy(e.Value)}
	}
	return out
}
