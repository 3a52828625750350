package server

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// describeDoc renders a document for error messages as relaxed extended JSON.
func describeDoc(d bson.D) string {
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		return fmt.Sprint(d)
	}
	return string(b)
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
