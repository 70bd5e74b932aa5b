module taskflow.local/cluster/testimage

go 1.24.0
