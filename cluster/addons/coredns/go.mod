module taskflow/cluster/addons/coredns

go 1.26.8
