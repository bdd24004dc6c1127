print("iommu-watch")
