module kop-conformance/harness/clients/go/driverkit

go 1.26.0
